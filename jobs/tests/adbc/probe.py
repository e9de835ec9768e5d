#!/usr/bin/env python3
"""Runs SQL statements against a Flight SQL server with the real ADBC driver
(adbc-driver-flightsql), for jobs/tests/flight_sql_adbc.rs.

Usage: probe.py URI PROBES.json

PROBES.json is a list of {"name", "user", "password", "sql": [statements], "prepare": bool,
"tls_root_certs": PEM text (optional, for a grpc+tls:// URI whose certificate authority is not a
system one)}; each probe connects with its credentials (none when "user" is null), runs its statements in order on
one connection ("-- sleep SECONDS" pauses instead) and records, per statement, either the rows (as JSON values) and whether the schema
announced by GetFlightInfo equals the data's, or the error. Prints one JSON list of results.
"""

import json
import sys
import time

import adbc_driver_flightsql.dbapi as flight_sql
import pyarrow


def cell(value):
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def run_statement(cur, sql, prepare):
    if prepare:
        cur.adbc_prepare(sql)
    cur.execute(sql)
    table = cur.fetch_arrow_table()
    announced = None
    try:
        announced = cur.adbc_execute_schema(sql)
    except Exception as e:  # noqa: BLE001 - older servers may not implement GetSchema
        announced = None
        schema_note = f"no announced schema: {e}"
    else:
        schema_note = ""
    rows = [{k: cell(v) for k, v in row.items()} for row in table.to_pylist()]
    out = {"ok": True, "rows": rows, "types": [str(f.type) for f in table.schema]}
    if announced is not None:
        out["schema_equal"] = announced.equals(table.schema, check_metadata=False)
        out["announced"] = str(announced)
        out["data_schema"] = str(table.schema)
    else:
        out["schema_note"] = schema_note
    return out


def run_probe(uri, probe):
    db_kwargs = {}
    if probe.get("user") is not None:
        db_kwargs.update({"username": probe["user"], "password": probe.get("password", "")})
    if probe.get("tls_root_certs") is not None:
        db_kwargs["adbc.flight.sql.client_option.tls_root_certs"] = probe["tls_root_certs"]
    kwargs = {"db_kwargs": db_kwargs} if db_kwargs else {}
    results = []
    try:
        conn = flight_sql.connect(uri, **kwargs)
    except Exception as e:  # noqa: BLE001 - the error is the result
        return {"name": probe["name"], "connected": False, "error": str(e), "statements": []}
    with conn:
        if not probe["sql"]:
            # connecting is lazy: a first call reaches the server (TLS, handshake)
            try:
                conn.adbc_get_info()
            except Exception as e:  # noqa: BLE001 - the error is the result
                return {"name": probe["name"], "connected": False, "error": str(e), "statements": []}
        for sql in probe["sql"]:
            if sql.startswith("-- sleep "):
                # a pause between statements on the same connection (token expiry tests)
                seconds = float(sql.split()[2])
                time.sleep(seconds)
                results.append({"ok": True, "slept": seconds})
                continue
            with conn.cursor() as cur:
                try:
                    results.append(run_statement(cur, sql, probe.get("prepare", False)))
                except Exception as e:  # noqa: BLE001 - the error is the result
                    results.append({"ok": False, "error": str(e)})
    return {"name": probe["name"], "connected": True, "statements": results}


def main():
    uri, probes_file = sys.argv[1], sys.argv[2]
    probes = json.load(open(probes_file))
    print(json.dumps([run_probe(uri, p) for p in probes]))
    return 0


if __name__ == "__main__":
    assert pyarrow  # the driver returns pyarrow tables
    sys.exit(main())
