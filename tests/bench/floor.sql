SELECT m.id, m.campagne_id_fk AS campagne_id, m.numero_abonne,
       c.valid_start, c.valid_end, m.template_id, c.ack_delay,
       c.genre, c.ack_count, m.storables
  FROM campagnes c JOIN messages m ON m.campagne_id_fk = c.id
 WHERE c.zone_diffusion = 3 AND c.valid_start < '2026-11-01'::date + 1
   AND c.valid_end >= '2026-11-01'::date
