CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) DEFAULT 0, opened date);
INSERT INTO accounts VALUES (1, 'ann', 100.50, '2024-01-31'), (2, 'bob', -3, NULL), (3, '李雷', 0, '2024-02-29');
SELECT * FROM accounts ORDER BY id;
SELECT owner, balance * 2 AS doubled FROM accounts WHERE balance > 0;
SELECT count(*), sum(balance), avg(balance) FROM accounts;
UPDATE accounts SET balance = balance + 1 WHERE id = 2 RETURNING id, balance;
SELECT 1 / 0;
SELECT owner FROM accounts WHERE id = 1;
BEGIN;
INSERT INTO accounts VALUES (1, 'dup', 0, NULL);
SELECT 1;
ROLLBACK;
PREPARE by_owner AS SELECT id, balance FROM accounts WHERE owner = $1;
EXECUTE by_owner('李雷');
SELECT * FROM missing;
SELECT id, owner FROM accounts ORDER BY id DESC LIMIT 2;
COPY accounts (id, owner, balance) FROM STDIN;
4	copied\twith tab	\N
5	second	7.25
\.
COPY (SELECT id, owner, balance FROM accounts WHERE id >= 4 ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER);
VACUUM accounts;
