#!/usr/bin/env bash
# Runs once, when the postgres service initialises an empty data volume
# (/docker-entrypoint-initdb.d): creates MLflow's own role and database, both named "mlflow"
# (compose.yaml's MLFLOW_BACKEND_STORE_URI uses them), next to Airflow's metadata DB.
# Changing MLFLOW_DB_PASSWORD later needs `ALTER ROLE mlflow PASSWORD ...` (or a new volume).
set -euo pipefail
: "${MLFLOW_DB_PASSWORD:?MLFLOW_DB_PASSWORD must be set (see docker/.env.example)}"

# psql quotes :'pw' as a literal, so the password needs no escaping here.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v pw="$MLFLOW_DB_PASSWORD" <<'SQL'
CREATE ROLE mlflow LOGIN PASSWORD :'pw';
CREATE DATABASE mlflow OWNER mlflow;
SQL
