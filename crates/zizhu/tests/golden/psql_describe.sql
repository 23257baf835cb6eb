CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) DEFAULT 0, opened date);
CREATE UNIQUE INDEX acc_owner ON accounts (owner);
CREATE TABLE orders (id serial PRIMARY KEY, acc int REFERENCES accounts (id) ON DELETE CASCADE, amt bigint CHECK (amt > 0), note varchar(40));
CREATE INDEX orders_acc_amt ON orders (acc, amt);
CREATE VIEW rich AS SELECT id, owner, balance FROM accounts WHERE balance > 100;
CREATE SEQUENCE invoice_no;
\l
\dn
\du
\d
\dt
\di
\dv
\ds
\d accounts
\d orders
\d rich
\d invoice_no
\d orders_id_seq
\d orders_acc_amt
\d missing
DROP TABLE IF EXISTS missing;
CREATE TABLE IF NOT EXISTS accounts (id int);
COMMIT;
BEGIN;
BEGIN;
COMMIT;
CREATE SCHEMA app;
CREATE TABLE app.items (sku text PRIMARY KEY, qty int NOT NULL DEFAULT 0, account int REFERENCES accounts (id));
CREATE INDEX items_qty ON app.items (qty);
\dn
\dt app.*
\d app.items
\di app.*
SET search_path TO app, public;
\dt
RESET search_path;
DROP SCHEMA app;
DROP SCHEMA app CASCADE;
\dn
