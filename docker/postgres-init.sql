-- Runs once, when the postgres container starts on an empty data volume (/docker-entrypoint-initdb.d/).
-- One database per service that has one: each service owns its data (migrations run when it starts).
-- analytics keeps its state in Redis and has no database.
CREATE DATABASE orders;
CREATE DATABASE payments;
CREATE DATABASE inventory;
CREATE DATABASE notifications;
