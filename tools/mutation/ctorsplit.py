#!/usr/bin/env python3
# usage: ctorsplit.py report.json [path-substring-filter...] [--list]
# Recounts a Stryker report as if `ignore-methods: ["*Exception.ctor"]` had been set: a mutant whose innermost
# enclosing call-like parentheses are those of `new SomethingException(` is dropped. Approximate (a small C# scanner).
import json, sys, re, collections
KEYWORDS = {'if','while','for','foreach','switch','when','catch','using','lock','return','typeof','sizeof','default','checked','unchecked','await','in','is','and','or','not','throw','yield'}
def frames(src):
    out = []; stack = []; i = 0; n = len(src)
    def scan_string(i, interp, verbatim):
        # i at opening quote; returns index after closing quote
        i += 1
        while i < n:
            c = src[i]
            if interp and c == '{':
                if i+1 < n and src[i+1] == '{': i += 2; continue
                depth = 1; i += 1
                while i < n and depth:
                    if src[i] == '"':
                        i = scan_string(i, False, False); continue
                    if src[i] == '{': depth += 1
                    elif src[i] == '}': depth -= 1
                    i += 1
                continue
            if not verbatim and c == '\\': i += 2; continue
            if c == '"':
                if verbatim and i+1 < n and src[i+1] == '"': i += 2; continue
                return i+1
            i += 1
        return i
    while i < n:
        c = src[i]
        if src.startswith('//', i):
            j = src.find('\n', i); i = n if j < 0 else j; continue
        if src.startswith('/*', i):
            j = src.find('*/', i); i = n if j < 0 else j+2; continue
        if c == '"' or (c in '$@' and i+1 < n and src[i+1] in '"$@'):
            j = i; interp = verbatim = False
            while src[j] in '$@': interp |= src[j]=='$'; verbatim |= src[j]=='@'; j += 1
            if src.startswith('"""', j):
                k = src.find('"""', j+3); i = k+3; continue
            i = scan_string(j, interp, verbatim); continue
        if c == "'":
            i += 3 if src[i+1] != '\\' else 4
            while i < n and src[i-1] != "'": i += 1
            continue
        if c == '(':
            m = re.search(r'(new\s+[\w.]+|[\w.]+)\s*(<[^<>()]*>)?\s*$', src[max(0,i-200):i])
            head = m.group(1) if m else ''
            if head.split('.')[-1] in KEYWORDS or head == '': head = None
            stack.append((i, head))
        elif c == ')' and stack:
            s, head = stack.pop(); out.append((s, i, head))
        i += 1
    return out
def ignored(src, frs, off):
    best = None
    for s, e, head in frs:
        if head and s < off <= e and (best is None or s > best[0]): best = (s, head)
    return best is not None and re.match(r'new\s+[\w.]*Exception$', best[1]) is not None
r = json.load(open(sys.argv[1])); filt = [a for a in sys.argv[2:] if a != '--list']
tot = collections.Counter(); dropped = collections.Counter()
for path, f in sorted(r['files'].items()):
    if filt and not any(x in path for x in filt): continue
    src = f['source']; lines = src.split('\n'); starts = [0]
    for l in lines: starts.append(starts[-1] + len(l) + 1)
    frs = frames(src)
    for m in f['mutants']:
        st = m['status']
        if st not in ('Killed','Timeout','Survived','NoCoverage'): continue
        loc = m['location']['start']; off = starts[loc['line']-1] + loc['column'] - 1
        if ignored(src, frs, off):
            dropped[st] += 1
            if st in ('Survived', 'NoCoverage') and '--list' in sys.argv:
                print('   dropped', path.split('src/')[-1], loc['line'], m['mutatorName'])
        else:
            tot[st] += 1
def score(c):
    d = c['Killed']+c['Timeout']; v = d + c['Survived'] + c['NoCoverage']; return d, v, (100*d/v if v else 100)
d, v, p = score(tot)
print(f"kept: {p:.2f}% detected {d} of {v} (killed {tot['Killed']}, timeout {tot['Timeout']}, survived {tot['Survived']}, no coverage {tot['NoCoverage']})")
print(f"dropped (inside exception constructors): killed {dropped['Killed']}, timeout {dropped['Timeout']}, survived {dropped['Survived']}, no coverage {dropped['NoCoverage']}")
