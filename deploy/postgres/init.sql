-- Runs once, when the postgres volume is first created: the extension the chat's vectors need and
-- the databases of the MLflow tracking server and Dagster's run storage.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE DATABASE mlflow OWNER fvi;
CREATE DATABASE dagster OWNER fvi;
\connect fvi
CREATE EXTENSION IF NOT EXISTS vector;
