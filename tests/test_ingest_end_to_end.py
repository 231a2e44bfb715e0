"""A generated archive (every quirk) through ingest, checked against the generator's manifest."""
import json


from ingest import normalize as N
from warehouse.catalog import connect


def manifest(archive):
    return json.loads((archive / "manifest.json").read_text())


def q(root, sql):
    return connect(root).sql(sql).fetchall()


def test_reconciliation_holds_exactly_per_source_and_partition(archive, warehouse):
    m = manifest(archive)
    rows = q(warehouse, "select source, partition, source_rows, written, deduped, quarantined from ingest_runs")
    assert all(r[2] == r[3] + r[4] + r[5] for r in rows)
    per_file = {}
    for r in rows:
        name = r[0].rsplit("/", 1)[-1]
        per_file[name] = per_file.get(name, 0) + r[2]
    assert per_file == {f.rsplit("/", 1)[-1]: v["source_rows"] for f, v in m["files"].items()}


def test_each_quirk_is_repaired_or_quarantined_with_its_count(archive, warehouse):
    m = manifest(archive)
    quirks, where = m["quirks"], m["quirk_rows"]
    ((deduped, repaired),) = q(warehouse, "select sum(deduped), sum(repaired) from ingest_runs")
    assert deduped == quirks["duplicate_seconds"]
    assert repaired == sum(r["repairable"] for r in where["ts_1970"])
    reasons = dict(q(warehouse, "select split_part(reason, ' (', 1), count(*) from quarantine group by all"))
    assert reasons == {N.R_PREOPEN: quirks["preopen_rows"], N.R_POSTCLOSE: quirks["postclose_rows"],
                       N.R_1970_OCCUPIED: sum(not r["repairable"] for r in where["ts_1970"]),
                       "malformed tuple": quirks["malformed_rows"], "truncated statement at end of file": 1}
    assert q(warehouse, "select count(*) from options_ticks where price is null")[0][0] == quirks["zero_price"]
    px = " or ".join(f"{s}_px{k} = 0" for s in ("bid", "ask") for k in range(5))
    assert q(warehouse, f"select count(*) from options_ticks where price = 0 or {px}")[0][0] == 0
    assert q(warehouse, "select count(*) from options_ticks where year(ts) < 2000 or date < '2025-01-01'")[0][0] == 0


def test_malformed_and_truncated_rows_are_quarantined_at_their_file_and_line(archive, warehouse):
    m = manifest(archive)
    got = {(r[0].rsplit("/", 1)[-1], r[1]) for r in
           q(warehouse, "select source, position from quarantine where reason like 'malformed%' or reason like 'truncated%'")}
    want = {(x["file"].rsplit("/", 1)[-1], f"line {x['line']} tuple {x['tuple']}")
            for x in m["quirk_rows"]["malformed_rows"]}
    t = m["quirk_rows"]["truncated_statement"]
    want.add((t["file"].rsplit("/", 1)[-1], f"line {t['line']} tuple {t['tuple']}"))
    assert got == want


def test_1970_rows_are_placed_at_their_true_second_or_quarantined(archive, warehouse):
    for r in manifest(archive)["quirk_rows"]["ts_1970"]:
        n = q(warehouse, f"""select count(*) from options_ticks where source_table = '{r["table"]}'
                              and ts = timestamp '{r["true_ts"]}' at time zone 'Asia/Kolkata'""")[0][0]
        assert n == (1 if r["repairable"] else 0), r


def test_vol_delta_is_the_traded_quantity_through_resets(archive, warehouse):
    assert q(warehouse, "select count(*) from options_ticks where vol_delta < 0")[0][0] == 0
    for r in manifest(archive)["quirk_rows"]["volume_resets"]:
        ((vol, delta),) = q(warehouse, f"""select volume, vol_delta from options_ticks where source_table = '{r["table"]}'
                                           and ts = timestamp '{r["ts"]}' at time zone 'Asia/Kolkata'""")
        assert delta == vol


def test_spot_and_futures_land_in_their_tables(warehouse):
    assert dict(q(warehouse, "select underlying, count(distinct date) from spot_ticks group by all")) == {
        "BANKNIFTY": 3, "NIFTY": 2}  # NIFTY's second day is the injected missing day
    assert q(warehouse, "select count(distinct symbol) from futures_ticks")[0][0] == 2


def test_reingesting_the_same_archive_gives_identical_rows(archive, tmp_path):
    from ingest.pipeline import run_ingest
    files = sorted(str(p) for p in (archive / "sqldump").glob("*nse*.sql.gz"))
    run_ingest(files, tmp_path)
    sql = "select md5(string_agg(concat_ws('|', underlying, ts, price), ',' order by underlying, ts)) from spot_ticks"
    first = q(tmp_path, sql)
    report = run_ingest(files, tmp_path)
    assert q(tmp_path, sql) == first
    assert report.totals()["written"] == sum(r["source_rows"] for r in report.runs) - report.totals()["quarantined"]
