-- The cast transaction of ballots.casting.cast, as pgbench runs it (bench/bench_cast.py).
--
-- The statements and columns are the ones SQLAlchemy sends for one POST /api/v1/vote/cast
-- (captured with a before_cursor_execute listener), in the same order, in one transaction:
-- BEGIN, the pool's pre-ping (SELECT 1), the token by hash, the round FOR SHARE (with its
-- questionnaire), the unit, the token's batch, the unit's subjects with their people, the
-- conditional UPDATE that spends the token, and the three INSERTs, then COMMIT.
--
-- What differs from the app, on purpose:
-- * The token: bench_cast.py inserts tokens whose hash is sha256('castbench-<n>') (no plain
--   token exists for them); each transaction takes the next n from the castbench_seq
--   sequence (one extra round trip before BEGIN), so every transaction spends a distinct,
--   unused token, as every phone's cast does.
-- * Values Python computes in the app come from pgbench variables (-D): the ratings JSON
--   (one ward's subjects, every criterion rated), the free-text answer, a 38-byte sealed
--   receipt (the app's size: nonce, ciphertext, tag), and the question key. The free-text
--   row names the subject the subjects query returned last (\aset). Ballot and free-text
--   ids are gen_random_uuid() (the app draws uuid4 in Python); the receipt code is 16 hex
--   digits of md5 of n (the app's is 10 random Crockford symbols: 16 here so that 100,000+
--   codes cannot collide).
-- Run with -M prepared: psycopg prepares a statement after 5 executions on a connection.

SELECT nextval('castbench_seq') AS n \gset
BEGIN;
SELECT 1;
SELECT tokens.token_hash, tokens.round_id, tokens.unit_id, tokens.batch_id, tokens.used,
       tokens.receipt_sealed IS NULL AS unsealed
FROM tokens
WHERE tokens.token_hash = sha256(convert_to('castbench-' || CAST(:n AS text), 'UTF8')) \gset
SELECT rounds.id, rounds.title, rounds.plan_reference, rounds.year, rounds.status,
       rounds.opens_at, rounds.closes_at, rounds.anonymity_threshold, rounds.questionnaire,
       rounds.created_at
FROM rounds
WHERE rounds.id = CAST(:round_id AS INTEGER) FOR SHARE;
SELECT units.id, units.code, units.kind, units.level, units.name, units.ward,
       units.usual_electorate, units.created_at
FROM units
WHERE units.id = CAST(:unit_id AS INTEGER);
SELECT token_batches.id, token_batches.round_id, token_batches.unit_id, token_batches.size,
       token_batches.over_electorate, token_batches.created_at, token_batches.voided_at,
       token_batches.void_reason
FROM token_batches
WHERE token_batches.id = CAST(:batch_id AS INTEGER);
SELECT subjects.id AS subject_id, subjects.round_id, subjects.unit_id, subjects.person_id,
       subjects.role, people_1.id AS id_1, people_1.full_name, people_1.reference
FROM subjects LEFT OUTER JOIN people AS people_1 ON people_1.id = subjects.person_id
WHERE subjects.round_id = CAST(:round_id AS INTEGER)
  AND subjects.unit_id = CAST(:unit_id AS INTEGER) \aset
UPDATE tokens SET used = true, receipt_sealed = CAST(:sealed AS bytea)
WHERE tokens.token_hash = sha256(convert_to('castbench-' || CAST(:n AS text), 'UTF8'))
  AND tokens.used IS false
  AND tokens.batch_id IN (SELECT token_batches.id FROM token_batches
                          WHERE token_batches.voided_at IS NULL);
INSERT INTO ballots (id, round_id, unit_id, ratings)
VALUES (gen_random_uuid(), CAST(:round_id AS INTEGER), CAST(:unit_id AS INTEGER),
        CAST(:ratings AS JSONB));
INSERT INTO free_text_answers (id, round_id, subject_id, question, text)
VALUES (gen_random_uuid(), CAST(:round_id AS INTEGER), CAST(:subject_id AS INTEGER),
        CAST(:question AS VARCHAR), CAST(:text AS VARCHAR));
INSERT INTO receipts (code, round_id)
VALUES (upper(substr(md5('receipt-' || CAST(:n AS text)), 1, 16)), CAST(:round_id AS INTEGER));
COMMIT;
