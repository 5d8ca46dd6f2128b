-- schema.sql - the operator's campaign and message tables (DESIGN.md 2).
--
-- Load with:  psql -v ON_ERROR_STOP=1 -f scripts/schema.sql
-- With change tracking for incremental regeneration (moma(7)), opt-in:
--             psql -v ON_ERROR_STOP=1 -v moma_tracking=1 -f scripts/schema.sql
--
-- Layout follows pg_dump's order: tables first, then (after the
-- "@constraints" marker) the foreign key and the indexes.  scripts/dev/moma-sample
-- bulk-loads between the two parts, which is several times faster than
-- maintaining two indexes and checking a foreign key row by row; run as a
-- whole, the file is the plain schema.
--
-- Columns are nullable as in the operator's database: moma-fetch refuses a
-- NULL in any column the frame needs and names the message and the column.
-- zone_diffusion IS the DVB network_id of the zone (0..255), see zones.conf.

DROP TABLE IF EXISTS moma_revisions;
DROP TABLE IF EXISTS messages;
DROP TABLE IF EXISTS campagnes;

CREATE TABLE campagnes (
	id		bigint PRIMARY KEY,
	zone_diffusion	smallint,	-- DVB network_id, 0..255
	valid_start	timestamptz,	-- valid from, inclusive
	valid_end	timestamptz,	-- valid until
	genre		smallint,
	ack_count	smallint,
	ack_delay	integer,	-- seconds
	nom		text
);

CREATE TABLE messages (
	id		bigint PRIMARY KEY,
	campagne_id_fk	bigint,
	numero_abonne	bigint,		-- subscriber, section target_filter
	template_id	integer,
	storables	jsonb		-- keys: the encoder's tag registry
);

-- @constraints
ALTER TABLE messages ADD CONSTRAINT messages_campagne_id_fk_fkey
	FOREIGN KEY (campagne_id_fk) REFERENCES campagnes (id);

-- PostgreSQL does not index the referencing side of a foreign key: without
-- this, the JOIN for a small zone scans every message.  With id as its
-- second column it also hands moma-fetch the rows of a campaign in the
-- carousel's order, (campagne_id_fk, id): a merge join along it needs no
-- sort, however many rows the zone has (moma-fetch(1), ORDER).
CREATE INDEX messages_campagne_id_fk_id_idx ON messages (campagne_id_fk, id);

-- Serves moma-fetch's sargable predicate
--   zone_diffusion = $1 AND valid_start < $2::date + 1 AND valid_end >= $2::date
CREATE INDEX campagnes_zone_valid_idx
	ON campagnes (zone_diffusion, valid_start, valid_end);

-- Change tracking (opt-in, -v moma_tracking=1): moma-tracking.sql, beside
-- this file, which is also the migration of an existing database.
\if :{?moma_tracking}
\ir moma-tracking.sql
\endif
