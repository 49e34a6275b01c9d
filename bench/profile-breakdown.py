#!/usr/bin/env python3
"""Where a request's CPU goes: reads `perf script -F comm,ip,sym` of a
profile taken by bench/run.sh (PERF_ON=...) and puts every sample in one
category, by the first rule (in the order below) that its thread or stack
matches. Prints shares of all samples.

Usage: perf script -i perf.data -F comm,ip,sym | bench/profile-breakdown.py
"""
import collections
import sys

# (category, test on (thread, frames leaf first)); first match wins.
RULES = [
    ("audit: commit", lambda t, f: t.startswith("audit-writer") and any("commit_transaction" in s for s in f)),
    ("audit: chain hash, ids", lambda t, f: t.startswith("audit-writer") and any("chain_hash" in s or "new_v7" in s for s in f)),
    ("audit: statements (begin, head, inserts)", lambda t, f: t.startswith("audit-writer")),
    ("writer thread: commit", lambda t, f: t.startswith("db-writer") and any("commit_transaction" in s for s in f)),
    ("writer thread: audit chain hash, ids", lambda t, f: t.startswith("db-writer") and any("chain_hash" in s or "new_v7" in s for s in f)),
    ("writer thread: statements, triggers, savepoints", lambda t, f: t.startswith("db-writer")),
    ("handler SQL: building the statement (walk_ast, SQL text)", lambda t, f: any("construct_sql" in s or "push_identifier" in s or "push_sql" in s for s in f)),
    ("handler SQL: database engine (sqlite3_*, libpq I/O)", lambda t, f: any(s.startswith("sqlite3") or s.startswith("PQ") or s.startswith("pq") or "pqGetResult" in s for s in f[:40]) and any("RunQueryDsl" in s or "load_details" in s or "Connection" in s for s in f)),
    ("handler SQL: binds, rows to structs", lambda t, f: any("diesel::" in s for s in f)),
    ("thread hand-offs (futex, wake-ups, scheduling)", lambda t, f: any("futex" in s or "schedule" in s or "finish_task_switch" in s or "try_to_wake_up" in s for s in f[:12])),
    ("socket I/O (kernel TCP)", lambda t, f: any("tcp_" in s or "sys_sendto" in s or "sys_recvfrom" in s or "sock_" in s or "epoll" in s for s in f)),
    ("JSON and time formatting", lambda t, f: any("serde_json" in s or "chrono::format" in s for s in f)),
    ("memory allocation (malloc/free)", lambda t, f: any(s in ("malloc", "_int_malloc", "_int_free", "cfree@GLIBC_2.2.5", "realloc", "_int_realloc", "malloc_consolidate", "unlink_chunk.constprop.0") for s in f[:3])),
    ("HTTP: parsing, routing, middleware, handler code", lambda t, f: t.startswith("actix-rt")),
    ("blocking pool: other", lambda t, f: t.startswith("tokio-rt-worker")),
    ("other", lambda t, f: True),
]


def samples(lines):
    thread, frames = None, []
    for line in lines:
        if not line.strip():
            if thread is not None:
                yield thread, frames
            thread, frames = None, []
        elif not line[0].isspace():
            thread = line.split()[0] if line.split() else "?"
        else:
            parts = line.strip().split(None, 1)
            frames.append(parts[1] if len(parts) > 1 else "?")
    if thread is not None:
        yield thread, frames


counts = collections.Counter()
threads = collections.Counter()
total = 0
for thread, frames in samples(sys.stdin):
    total += 1
    threads[thread.split("|")[0]] += 1
    for name, test in RULES:
        if test(thread, frames):
            counts[name] += 1
            break
print(f"{total} samples")
print("| thread | share |")
print("|---|---|")
for name, n in threads.most_common():
    print(f"| {name} | {100 * n / total:.1f} % |")
print()
print("| where | share of server CPU |")
print("|---|---|")
for name, _ in RULES:
    if counts[name]:
        print(f"| {name} | {100 * counts[name] / total:.1f} % |")
