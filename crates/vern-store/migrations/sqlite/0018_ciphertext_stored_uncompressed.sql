-- Version parity with PostgreSQL's 0018 (decision 0028), which stores ciphertext and the
-- decision log's blocks without compression. SQLite never compresses values: nothing to change.
SELECT 1;
