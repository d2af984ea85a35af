#!/usr/bin/env bash
# bindmgr-apply.sh: after the merge, apply exactly the plan reviewed on the pull request, then
# verify that MDaemon answers as planned, and post the result on the pull request.
#
# The reviewed plan is the one in the pull request's plan comment (written by the workflow's
# token, see bindmgr-comment.sh): its digest, the run whose artifact holds plan.json, and the
# sha256 of the bindings file it was made from. Nothing is applied unless that plan had changes
# and no conflicts, the merged bindings file is the one planned, and `bindmgr apply --digest`
# finds the artifact's plan.json to be the reviewed one.
#
# Exit status of `bindmgr apply`, handled here rather than by `bash -e`:
#   0 applied (then `bindmgr verify`: 0 passes this step, anything else fails it)
#   3 refused: conflicts, or a port that cannot bind      -> this step fails
#   4 stale: MDaemon's files changed since the plan        -> this step fails
#   5 reverted: not confirmed in time, the old files back  -> this step fails
#   1 (or other) error, nothing written                    -> this step fails
# Settings (environment): BINDINGS, MDAEMON_APP, BINDMGR_LAYOUT, BINDMGR as for bindmgr-plan.sh;
# BINDMGR_APPLY_ARGS (default: --restart --wait-restart); BINDMGR_VERIFY (yes, or no);
# BINDMGR_COMMENT, BINDMGR_RUN_ID, BINDMGR_RUN_URL as for bindmgr-plan.sh, and BINDMGR_REQUEST
# (what the messages call the change: pull request).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bindings=${BINDINGS:-bindings.ini}
out=${OUT_DIR:-bindmgr-apply-out}
bindmgr=${BINDMGR:-bindmgr}
comment=${BINDMGR_COMMENT:-$here/bindmgr-comment.sh}
request=${BINDMGR_REQUEST:-pull request}
marker="<!-- bindmgr-apply -->"
run_id=${BINDMGR_RUN_ID:-${GITHUB_RUN_ID:?}}
run_url=${BINDMGR_RUN_URL:-${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:?}/actions/runs/$run_id}
read -r -a apply_args <<<"${BINDMGR_APPLY_ARGS---restart --wait-restart}"
where=()
if [ -n "${MDAEMON_APP:-}" ]; then where+=(--app-dir "$MDAEMON_APP"); fi
if [ -n "${BINDMGR_LAYOUT:-}" ]; then where+=(--layout "$BINDMGR_LAYOUT"); fi

mkdir -p "$out"
rm -rf "$out/reviewed" "$out/apply.txt" "$out/verify.md" "$out/verify.rest" "$out/comment.md"

# report RESULT HEADLINE: post the apply comment and set the step's outputs
report() {
    {
        echo "$marker"
        echo "**bindmgr apply**: $2"
        if [ -s "$out/apply.txt" ]; then
            echo
            echo "<details><summary>bindmgr apply said</summary>"
            echo
            head -n 100 "$out/apply.txt" | cut -c 1-300 | tr -d '\r' | sed 's/^/    /'
            lines=$(wc -l <"$out/apply.txt")
            if [ "$lines" -gt 100 ]; then
                echo
                echo "... and $((lines - 100)) more lines in the job's artifact \`bindmgr-apply\`."
            fi
            echo
            echo "</details>"
        fi
        if [ -s "$out/verify.md" ]; then # its first line shown, its tables folded
            echo
            head -n 1 "$out/verify.md"
            echo
            echo "<details><summary>bindmgr verify said</summary>"
            echo
            tail -n +2 "$out/verify.md" >"$out/verify.rest"
            if [ "$(wc -c <"$out/verify.rest")" -le 30000 ]; then
                cat "$out/verify.rest"
            else # cut at a line, so the comment stays within GitHub's limit
                head -c 30000 "$out/verify.rest" | sed '$d'
                echo
                echo "... cut here; the job's artifact \`bindmgr-apply\` holds verify.md whole."
            fi
            echo
            echo "</details>"
        fi
        echo
        echo "---"
        echo "Applied by [this run]($run_url). Result: **$1**."
    } >"$out/comment.md"
    "$comment" post "$marker" "$out/comment.md"
    if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "result=$1" >>"$GITHUB_OUTPUT"; fi
}

# 1. The reviewed plan, as the plan comment names it.
id=$("$comment" find "<!-- bindmgr-plan -->")
meta=""
if [ -n "$id" ]; then
    meta=$("$comment" body "$id" | tr -d '\r' |
        sed -n 's/^<!-- bindmgr-plan-meta \(.*\) -->$/\1/p' | tail -n 1)
fi
digest="" run="" planned_bindings="" result=""
for field in $meta; do
    case $field in
    digest=sha256:*) digest=${field#digest=} ;;
    run=*) run=${field#run=} ;;
    bindings=*) planned_bindings=${field#bindings=} ;;
    result=*) result=${field#result=} ;;
    esac
done
if ! [[ $digest =~ ^sha256:[0-9a-f]{64}$ && $run =~ ^[0-9]+$ ]]; then
    report no-plan "not applied: this $request has no reviewed plan (no bindmgr plan comment)."
    exit 1
fi
case $result in
changes) ;;
no-changes)
    report nothing "nothing to apply: the reviewed plan \`$digest\` changes nothing."
    exit 0
    ;;
*)
    report refused "not applied: the reviewed plan ended in **$result**; fix it and plan again."
    exit 1
    ;;
esac
merged_bindings=$(sha256sum "$bindings" | cut -d' ' -f1)
if [ "$merged_bindings" != "$planned_bindings" ]; then
    report not-reviewed "not applied: \`$bindings\` as merged is not the one planned (the plan
of its last change had not run); once that plan's comment is there and reviewed, re-run this job."
    exit 1
fi

# 2. The plan file from the plan run's artifact; bindmgr checks it is the reviewed one.
if ! "$comment" fetch "$run" "$out/reviewed" >"$out/apply.txt" 2>&1; then
    report no-artifact "not applied: the artifact \`bindmgr-plan\` of run $run could not be downloaded."
    exit 1
fi
plan="$out/reviewed/plan.json"

# 3. Apply, then verify.
status=0
"$bindmgr" apply "$plan" --digest "$digest" "${where[@]}" "${apply_args[@]}" \
    >"$out/apply.txt" 2>&1 || status=$?
cat "$out/apply.txt" >&2
case $status in
0) ;;
3) report refused "not applied (exit 3): a conflict or a port that cannot bind; nothing written." ;;
4) report stale "not applied (exit 4): MDaemon's files changed since the plan; plan again and review." ;;
5) report reverted "reverted (exit 5): not confirmed in time; the previous files are back." ;;
*) report error "not applied (exit $status): see below; nothing was written." ;;
esac
if [ "$status" -ne 0 ]; then exit 1; fi

if [ "${BINDMGR_VERIFY:-yes}" = no ]; then
    report applied "applied the reviewed plan \`$digest\`."
    exit 0
fi
verified=0
"$bindmgr" verify --plan "$plan" "${where[@]}" --format markdown >"$out/verify.md" || verified=$?
if [ "$verified" -eq 0 ]; then
    report applied "applied the reviewed plan \`$digest\`; MDaemon answers as planned."
    exit 0
fi
report unverified "applied the reviewed plan \`$digest\`, but MDaemon does not answer as
planned (verify exit $verified); \`bindmgr rollback\` restores the previous files."
exit 1
