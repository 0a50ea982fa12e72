#!/usr/bin/env python3
# usage: survivors.py report.json  -- lists survived / no-coverage mutants per file, and per-file scores
import json, sys, re, collections
r = json.load(open(sys.argv[1]))
tot = collections.Counter()
for path, f in sorted(r['files'].items()):
    src = f['source'].split('\n')
    c = collections.Counter(m['status'] for m in f['mutants'])
    tot.update(c)
    det = c['Killed'] + c['Timeout']; valid = det + c['Survived'] + c['NoCoverage']
    short = re.sub(r'.*/src/', '', path)
    print(f"== {short}: {100*det/valid if valid else 100:.1f}% (killed {c['Killed']}, timeout {c['Timeout']}, survived {c['Survived']}, nocov {c['NoCoverage']}, ignored {c['Ignored']}, compile {c['CompileError']})")
    for m in sorted(f['mutants'], key=lambda m: (m['location']['start']['line'], m['location']['start']['column'])):
        if m['status'] in ('Survived', 'NoCoverage'):
            ln = m['location']['start']['line']
            rep = (m.get('replacement') or '').replace('\n', ' ')[:90]
            print(f"  {ln:4d} {m['status'][:4]} {m['mutatorName']}: {rep!r}   | {src[ln-1].strip()[:100]}")
det = tot['Killed'] + tot['Timeout']; valid = det + tot['Survived'] + tot['NoCoverage']
print(f"TOTAL {100*det/valid:.2f}% killed {tot['Killed']} timeout {tot['Timeout']} survived {tot['Survived']} nocov {tot['NoCoverage']} ignored {tot['Ignored']} compile {tot['CompileError']}")
