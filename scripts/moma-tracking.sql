-- moma-tracking.sql - change tracking for incremental regeneration
-- (moma(7), INCREMENTAL REGENERATION).  Opt-in; run it once on a database
-- that has the moma schema (scripts/schema.sql), as the tables' owner:
--
--     psql -v ON_ERROR_STOP=1 -f moma-tracking.sql
--
-- It is also the migration of an existing database: it creates what is
-- missing, replaces the functions and triggers, and gives every campaign
-- a fresh revision, so a carousel published before it was run is never
-- taken for current.  Run it again after the triggers were disabled for a
-- while (ALTER TABLE ... DISABLE TRIGGER, session_replication_role =
-- replica): that marks every campaign changed.  Turn it off with
-- moma-tracking-off.sql; moma-zone then rebuilds in full, as without it.
--
-- Each campaign's revision is taken from one sequence, so it is never
-- reused, not even by a campaign deleted and re-created with the same id.
-- A revision changes whenever anything that goes into the campaign's
-- sections may have changed:
--   messages   statement-level AFTER INSERT, UPDATE, DELETE triggers with
--              transition tables: one new revision per statement for each
--              campaign the statement touched (old and new campagne_id_fk);
--              AFTER TRUNCATE: every campaign.
--   campagnes  a row trigger on INSERT, DELETE and UPDATE of any column
--              a section carries or that selects it (id, zone_diffusion,
--              valid_start, valid_end, genre, ack_count, ack_delay).

BEGIN;

CREATE SEQUENCE IF NOT EXISTS moma_revision_seq;

CREATE TABLE IF NOT EXISTS moma_revisions (
	campagne_id	bigint PRIMARY KEY,
	revision	bigint NOT NULL
);

-- moma_bump(ids): a new revision for each campaign of ids.
CREATE OR REPLACE FUNCTION moma_bump(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO moma_revisions (campagne_id, revision)
	SELECT i, nextval('moma_revision_seq')
	  FROM (SELECT DISTINCT i FROM unnest(ids) i WHERE i IS NOT NULL ORDER BY i) d
	ON CONFLICT (campagne_id) DO UPDATE SET revision = EXCLUDED.revision
$$;

CREATE OR REPLACE FUNCTION moma_messages_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM moma_bump(ARRAY(SELECT DISTINCT campagne_id_fk FROM moma_new));
	ELSIF TG_OP = 'DELETE' THEN
		PERFORM moma_bump(ARRAY(SELECT DISTINCT campagne_id_fk FROM moma_old));
	ELSIF TG_OP = 'UPDATE' THEN
		PERFORM moma_bump(ARRAY(SELECT campagne_id_fk FROM moma_new
		                        UNION SELECT campagne_id_fk FROM moma_old));
	ELSE	-- TRUNCATE: every campaign
		PERFORM moma_bump(ARRAY(SELECT id FROM campagnes));
	END IF;
	RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION moma_campagnes_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		DELETE FROM moma_revisions;
	ELSIF TG_OP = 'INSERT' THEN
		PERFORM moma_bump(ARRAY[NEW.id]);
	ELSIF TG_OP = 'DELETE' THEN
		PERFORM moma_bump(ARRAY[OLD.id]);
	ELSE
		PERFORM moma_bump(ARRAY[OLD.id, NEW.id]);
	END IF;
	RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS moma_messages_ins ON messages;
DROP TRIGGER IF EXISTS moma_messages_upd ON messages;
DROP TRIGGER IF EXISTS moma_messages_del ON messages;
DROP TRIGGER IF EXISTS moma_messages_trunc ON messages;
DROP TRIGGER IF EXISTS moma_campagnes_row ON campagnes;
DROP TRIGGER IF EXISTS moma_campagnes_trunc ON campagnes;

CREATE TRIGGER moma_messages_ins AFTER INSERT ON messages
	REFERENCING NEW TABLE AS moma_new
	FOR EACH STATEMENT EXECUTE FUNCTION moma_messages_changed();
CREATE TRIGGER moma_messages_upd AFTER UPDATE ON messages
	REFERENCING OLD TABLE AS moma_old NEW TABLE AS moma_new
	FOR EACH STATEMENT EXECUTE FUNCTION moma_messages_changed();
CREATE TRIGGER moma_messages_del AFTER DELETE ON messages
	REFERENCING OLD TABLE AS moma_old
	FOR EACH STATEMENT EXECUTE FUNCTION moma_messages_changed();
CREATE TRIGGER moma_messages_trunc AFTER TRUNCATE ON messages
	FOR EACH STATEMENT EXECUTE FUNCTION moma_messages_changed();
CREATE TRIGGER moma_campagnes_row
	AFTER INSERT OR DELETE OR UPDATE OF id, zone_diffusion, valid_start, valid_end,
	      genre, ack_count, ack_delay ON campagnes
	FOR EACH ROW EXECUTE FUNCTION moma_campagnes_changed();
CREATE TRIGGER moma_campagnes_trunc AFTER TRUNCATE ON campagnes
	FOR EACH STATEMENT EXECUTE FUNCTION moma_campagnes_changed();

-- Every campaign changed: a carousel published before now is rebuilt.
DO $$ BEGIN PERFORM moma_bump(ARRAY(SELECT id FROM campagnes)); END $$;

COMMIT;
