#!/bin/sh
# Run every test program given, print each one's Check summary, and close
# with one line counting every check: "tests: N passed, N failed".
# VALGRIND=1 runs each under valgrind (Check's fork mode is turned off so
# valgrind sees the tests themselves).
passed=0
failed=0
bad=""
for t in "$@"; do
    name=$(basename "$t")
    if [ "${VALGRIND:-0}" = 1 ]; then
        out=$(CK_FORK=no valgrind -q --error-exitcode=99 --leak-check=full \
              --errors-for-leak-kinds=definite,indirect "$t" 2>&1)
    else
        out=$("$t" 2>&1)
    fi
    rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -n 1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out" | tail -n 20
        echo "$name: no Check summary (exit $rc)"
        failed=$((failed + 1))
        bad="$bad $name"
        continue
    fi
    echo "$name: $line"
    checks=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
    fails=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    errs=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
    bad_here=$((fails + errs))
    passed=$((passed + checks - bad_here))
    failed=$((failed + bad_here))
    if [ "$rc" != 0 ] || [ "$bad_here" != 0 ]; then
        printf '%s\n' "$out" | grep -vE '^[0-9]+%: Checks: ' | tail -n 40
        [ "$rc" = 0 ] && [ "$bad_here" = 0 ] || bad="$bad $name"
        [ "$rc" != 0 ] && [ "$bad_here" = 0 ] && failed=$((failed + 1))
    fi
done
echo "tests: $passed passed, $failed failed"
[ "$failed" = 0 ] || { echo "failing:$bad"; exit 1; }
