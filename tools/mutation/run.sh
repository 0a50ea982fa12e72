#!/usr/bin/env bash
# Mutation testing with Stryker.NET (docs/MUTATION-TESTING.md): mutates the code of one project, runs its
# tests against each mutant, and reports the mutation score (killed / (killed + survived + no coverage)).
#
#   tools/mutation/run.sh crypto|audit|policy|policy-endpoints|all [--break-at N] [--only GLOB]... [--tests FILTER]
#                         [extra dotnet-stryker options]
#
#   crypto            src/Exchange.Crypto   against tests/Exchange.Crypto.Tests
#   audit             src/Exchange.Audit    against tests/Exchange.Audit.Tests
#   policy            the policy engine (Api/Policy: PolicyEngine, PolicyModel, PolicyLoader, FieldMask)
#                     against the Api's policy unit tests (decision tables, validation, masks): no web host
#   policy-endpoints  the rest of Api/Policy (AccessDecider, AnswerFields, PolicySetup) and Api/Decisions (the decision point endpoint filter)
#                     against every Policy test, through the test host (slow)
#
#   --only GLOB       mutate only the target's files matching GLOB (prefixed with **/ unless it starts with **), e.g.
#                     --only 'Keys/DataKeyCache.cs', --only 'Sealing/*.cs'; repeatable; replaces the config's mutate list.
#                     Reports then go to artifacts/mutation/<name>-<glob>/ so runs of different files do not
#                     overwrite each other.
#   --tests FILTER    run only the tests matching FILTER (dotnet test --filter syntax, e.g.
#                     'FullyQualifiedName~Exchange.Crypto.Tests.Keys'); replaces the config's test-case-filter.
#                     A mutant that only an excluded test would kill counts as survived: the score is a lower bound.
#
# Settings per project: tools/mutation/<name>.stryker-config.json (one process at a time, per-test coverage).
# Reports: artifacts/mutation/<name>[-<globs>]/reports/mutation-report.{html,json,md}. The last line printed is
#   mutation <name>[-<globs>]: score S% (killed K, survived V, no coverage N, timeout T, compile error C, ignored I)
# and the exit code is non-zero when the run failed or, with --break-at N, when the score is below N.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

usage() { sed -n 5,21p "$0" >&2; exit 2; }
[ $# -ge 1 ] || usage
target=$1; shift
break_at=""
only=()
tests=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --break-at) break_at=$2; shift 2 ;;
    --only) only+=("$2"); shift 2 ;;
    --tests) tests=$2; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done

test_dir() {
  case "$1" in
    crypto) echo tests/Exchange.Crypto.Tests ;;
    audit) echo tests/Exchange.Audit.Tests ;;
    policy|policy-endpoints) echo tests/Exchange.Api.Tests ;;
    *) usage ;;
  esac
}

# Prints the score line of a finished run from its JSON report (mutation-testing-elements schema).
score() {
  local name=$1 report="$ROOT/artifacts/mutation/$1/reports/mutation-report.json"
  [ -f "$report" ] || { echo "mutation $name: no report (the run did not finish)"; return 1; }
  grep -o '"status": *"[A-Za-z]*"' "$report" | cut -d'"' -f4 | sort | uniq -c | awk -v name="$name" -v brk="${break_at:-0}" '
    { n[$2] = $1 }
    END {
      k = n["Killed"] + 0; t = n["Timeout"] + 0; s = n["Survived"] + 0; nc = n["NoCoverage"] + 0
      c = n["CompileError"] + 0; i = n["Ignored"] + 0
      detected = k + t; valid = detected + s + nc
      pct = valid ? 100 * detected / valid : 100
      printf "mutation %s: score %.2f%% (killed %d, survived %d, no coverage %d, timeout %d, compile error %d, ignored %d)\n", name, pct, k, s, nc, t, c, i
      exit (pct < brk) ? 3 : 0
    }'
}

# Stryker options for --only and --tests, and the report folder's name: a run over some files of a target
# reports to its own folder, named after the globs, so that the target's full report is not overwritten.
selection=()
report_suffix=""
for glob in ${only[@]+"${only[@]}"}; do
  case "$glob" in
    '**'*) selection+=(--mutate "$glob") ;;
    *) selection+=(--mutate "**/$glob") ;;
  esac
  report_suffix+="-$(printf '%s' "$glob" | tr -c 'A-Za-z0-9.' '_')"
done
[ -n "$tests" ] && selection+=(--test-case-filter "$tests")

run() {
  local name=$1 dir report=$1$report_suffix
  dir=$(test_dir "$name")
  dotnet tool restore >/dev/null || { echo "mutation $name: dotnet tool restore failed"; return 1; }
  rm -rf "$ROOT/artifacts/mutation/$report"
  echo "== Stryker over $name${only[*]+ (only ${only[*]})} (tests in $dir${tests:+, filter $tests}), $(date -u +%FT%TZ)"
  local started=$SECONDS
  (cd "$dir" && dotnet stryker --config-file "$ROOT/tools/mutation/$name.stryker-config.json" \
      --output "$ROOT/artifacts/mutation/$report" --skip-version-check ${selection[@]+"${selection[@]}"} ${extra[@]+"${extra[@]}"})
  local status=$?
  echo "== $name took $((SECONDS - started)) s"
  [ $status -eq 0 ] || { echo "mutation $report: Stryker failed (exit $status)"; return $status; }
  score "$report"
}

if [ "$target" = all ]; then
  [ ${#only[@]} -eq 0 ] && [ -z "$tests" ] || { echo "--only and --tests name files and tests of one target, not of all" >&2; exit 2; }
  rc=0
  for name in crypto audit policy policy-endpoints; do run "$name" || rc=$?; done
  for name in crypto audit policy policy-endpoints; do score "$name"; done
  exit $rc
fi
run "$target"
