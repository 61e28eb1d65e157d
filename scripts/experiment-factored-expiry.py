"""Decision 0020, session 10 addendum: the factored expiry measured with Python's sqlite3.

One class of 1,000,000 records in the records table's shape (ordered ids, random anchors over
30 months, an 80-byte sealed value), with vern's pragmas. Stored: per-record `expires_at`
with `records_expiry_idx` and `records_class_idx`, as today. Factored: `expires_at` left NULL
for the class (a partial expiry index skips it), and an index on (tenant, category, purposes,
anchor) instead of the class index. Prints insert, empty-sweep probe, sweep and
"every expiry moved" recompute times for both. Writes /tmp/exp/f.db. Not part of the tests.
"""
import sqlite3, os, time, struct, random
N=1_000_000
T=b'\x01'*16
def setup(path, factored):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path): os.remove(path)
    for ext in ('-wal','-shm'):
        if os.path.exists(path+ext): os.remove(path+ext)
    c=sqlite3.connect(path, isolation_level=None)
    c.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON; PRAGMA cache_size=-32768; PRAGMA mmap_size=1073741824;")
    c.executescript("""CREATE TABLE records (tenant_id BLOB NOT NULL, id BLOB NOT NULL, subject_id BLOB NOT NULL,
      category TEXT NOT NULL, value_ct BLOB NOT NULL, source TEXT NOT NULL, purposes TEXT NOT NULL, legal_basis TEXT NOT NULL,
      collected_at INTEGER NOT NULL, last_activity_at INTEGER, originating_system TEXT, created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL, expires_at INTEGER, retention_rule TEXT, event_times TEXT,
      PRIMARY KEY (tenant_id, id)) STRICT, WITHOUT ROWID;
      CREATE INDEX records_subject_idx ON records (tenant_id, subject_id, id);""")
    if factored:
        c.executescript("""CREATE INDEX records_expiry_idx ON records (tenant_id, expires_at) WHERE expires_at IS NOT NULL;
          CREATE INDEX records_class_anchor_idx ON records (tenant_id, category, purposes, coalesce(last_activity_at, collected_at));""")
    else:
        c.executescript("""CREATE INDEX records_expiry_idx ON records (tenant_id, expires_at);
          CREATE INDEX records_class_idx ON records (tenant_id, category, purposes);""")
    return c
MONTH=30*86400*1_000_000
base=1_700_000_000*1_000_000
rows=[]
rnd=random.Random(1)
for i in range(N):
    rid=struct.pack('>QQ', base//1000+i, i)
    sid=struct.pack('>QQ', i//5, 7)
    anchor=base - rnd.randrange(0, 30*MONTH)
    rows.append((T,rid,sid,'contact.email.work_named',os.urandom(80),'direct','["marketing.send"]','consent',anchor,None,None,anchor,anchor))
for factored in (False, True):
    c=setup('/tmp/exp/f.db', factored)
    t=time.time()
    c.execute('BEGIN')
    if factored:
        c.executemany('INSERT INTO records (tenant_id,id,subject_id,category,value_ct,source,purposes,legal_basis,collected_at,last_activity_at,originating_system,created_at,updated_at,expires_at,retention_rule) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,NULL,NULL)', rows)
    else:
        c.executemany('INSERT INTO records (tenant_id,id,subject_id,category,value_ct,source,purposes,legal_basis,collected_at,last_activity_at,originating_system,created_at,updated_at,expires_at,retention_rule) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?+24*2592000000000,\'leads\')', [r+(r[8],) for r in rows])
    c.execute('COMMIT')
    ins=time.time()-t
    c.execute('ANALYZE')
    # empty sweep
    now=base - 40*MONTH
    t=time.time()
    if factored:
        n=c.execute("SELECT count(*) FROM records WHERE tenant_id=? AND category=? AND purposes=? AND coalesce(last_activity_at, collected_at) < ?", (T,'contact.email.work_named','["marketing.send"]', now-24*MONTH)).fetchone()[0]
    else:
        n=c.execute("SELECT count(*) FROM records WHERE tenant_id=? AND expires_at < ?", (T, now)).fetchone()[0]
    empty=time.time()-t
    # sweep: about 20% expired
    now=base - 30*MONTH + 24*MONTH + 6*MONTH  # anchors older than now-24 months
    thr=now-24*MONTH
    plan_sql = ("DELETE FROM records WHERE tenant_id=? AND category=? AND purposes=? AND coalesce(last_activity_at, collected_at) < ?" if factored
                else "DELETE FROM records WHERE tenant_id=? AND expires_at < ?")
    args = (T,'contact.email.work_named','["marketing.send"]', thr) if factored else (T, now)
    plan=c.execute("EXPLAIN QUERY PLAN "+plan_sql, args).fetchall()
    t=time.time(); c.execute('BEGIN'); cur=c.execute(plan_sql, args); deleted=cur.rowcount; c.execute('COMMIT'); sw=time.time()-t
    # recompute every expiry moved
    t=time.time()
    if not factored:
        c.execute('BEGIN'); c.execute("UPDATE records SET expires_at = expires_at - 6*2592000000000, retention_rule='leads2' WHERE tenant_id=?", (T,)); c.execute('COMMIT')
    rec=time.time()-t
    print(f"factored={factored}: insert {ins:.2f}s ({N/ins:,.0f}/s), empty-sweep probe {empty*1000:.2f} ms (n={n}), sweep {deleted} in {sw:.2f}s ({deleted/sw:,.0f}/s) plan={[p[3] for p in plan]}, recompute {rec:.2f}s")
    c.close()
