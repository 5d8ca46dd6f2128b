-- moma-tracking-off.sql - turn incremental regeneration's change tracking
-- off (moma(7)): drops what moma-tracking.sql created.  moma-zone then
-- finds no triggers and rebuilds every carousel in full.
BEGIN;
DROP TRIGGER IF EXISTS moma_messages_ins ON messages;
DROP TRIGGER IF EXISTS moma_messages_upd ON messages;
DROP TRIGGER IF EXISTS moma_messages_del ON messages;
DROP TRIGGER IF EXISTS moma_messages_trunc ON messages;
DROP TRIGGER IF EXISTS moma_campagnes_row ON campagnes;
DROP TRIGGER IF EXISTS moma_campagnes_trunc ON campagnes;
DROP FUNCTION IF EXISTS moma_messages_changed();
DROP FUNCTION IF EXISTS moma_campagnes_changed();
DROP FUNCTION IF EXISTS moma_bump(bigint[]);
DROP TABLE IF EXISTS moma_revisions;
DROP SEQUENCE IF EXISTS moma_revision_seq;
COMMIT;
