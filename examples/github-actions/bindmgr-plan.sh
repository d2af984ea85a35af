#!/usr/bin/env bash
# bindmgr-plan.sh: plan bindings.ini against MDaemon's files, post the plan on the pull request
# (one comment, updated in place on every push), label the pull request, keep the plan.
#
# Exit status of `bindmgr plan`, handled here rather than by `bash -e`:
#   0 no changes   -> comment, label bindmgr:no-changes, this step passes
#   2 changes      -> comment, label bindmgr:changes,    this step passes
#   3 conflicts    -> comment, label bindmgr:conflicts,  this step fails
#   1 (or other)   -> comment with the error, no label,  this step fails
#
# Writes $OUT_DIR (default bindmgr-out): plan.json (the reviewed plan, for the apply job),
# plan.md, comment.md. The comment ends with a hidden line the apply job reads:
#   <!-- bindmgr-plan-meta digest=sha256:... run=RUN sha=COMMIT bindings=SHA256 result=RESULT -->
# Settings (environment): BINDINGS (bindings.ini), MDAEMON_APP (read by bindmgr itself),
# BINDMGR_LAYOUT (a layout file), BINDMGR_CHECK (yes; "no" on a runner that is not the
# server), BINDMGR (the command, bindmgr), and PR_NUMBER, HEAD_SHA, GH_TOKEN from the workflow.
# Another forge: BINDMGR_COMMENT (the comment backend, default bindmgr-comment.sh beside this
# script), BINDMGR_RUN_ID and BINDMGR_RUN_URL (the job whose artifact keeps the plan, and its
# page; default GITHUB_RUN_ID and its run page). examples/gitlab-ci/ sets them for GitLab.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bindings=${BINDINGS:-bindings.ini}
out=${OUT_DIR:-bindmgr-out}
bindmgr=${BINDMGR:-bindmgr}
comment=${BINDMGR_COMMENT:-$here/bindmgr-comment.sh}
marker="<!-- bindmgr-plan -->"
run_id=${BINDMGR_RUN_ID:-${GITHUB_RUN_ID:?}}
run_url=${BINDMGR_RUN_URL:-${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:?}/actions/runs/$run_id}
: "${PR_NUMBER:?set PR_NUMBER to the pull request number}"

mkdir -p "$out"
rm -f "$out/plan.json" "$out/plan.md" "$out/plan.err" "$out/comment.md"

args=(plan --bindings "$bindings" --out "$out/plan.json" --format markdown)
if [ "${BINDMGR_CHECK:-yes}" != no ]; then args+=(--check); fi
if [ -n "${BINDMGR_LAYOUT:-}" ]; then args+=(--layout "$BINDMGR_LAYOUT"); fi

status=0
"$bindmgr" "${args[@]}" >"$out/plan.md" 2>"$out/plan.err" || status=$?
cat "$out/plan.err" >&2

digest=""
if [ -f "$out/plan.json" ]; then
    digest=$(sed -n 's/^  "digest": "\(sha256:[0-9a-f]\{64\}\)",\{0,1\}$/\1/p' "$out/plan.json")
fi
case $status in
0) result=no-changes label=bindmgr:no-changes ;;
2) result=changes label=bindmgr:changes ;;
3) result=conflicts label=bindmgr:conflicts ;;
*) result=error label="" ;;
esac
if [ "$result" != error ] && [ -z "$digest" ]; then
    echo "bindmgr plan exited $status but $out/plan.json holds no digest" >>"$out/plan.err"
    result=error label=""
fi

bindings_sha=$(sha256sum "$bindings" 2>/dev/null | cut -d' ' -f1) || bindings_sha=none
sha=${HEAD_SHA:-unknown}
{
    echo "$marker"
    if [ "$result" = error ]; then
        echo "**bindmgr plan failed** (exit $status): nothing was planned. What it said:"
        echo
        head -n 40 "$out/plan.err" | cut -c 1-300 | sed 's/^/    /'
    else
        cat "$out/plan.md"
    fi
    echo
    echo "---"
    if [ "$result" = error ]; then
        kept="its log has the details"
    else
        kept="the full plan is its artifact \`bindmgr-plan\`"
    fi
    echo "Planned from \`$bindings\` at ${sha:0:12} by [this run]($run_url); $kept." \
        "Result: **$result** (exit $status)."
    echo
    echo "<!-- bindmgr-plan-meta digest=${digest:-none} run=$run_id sha=$sha" \
        "bindings=$bindings_sha result=$result -->"
} >"$out/comment.md"

"$comment" post "$marker" "$out/comment.md"
"$comment" label "$label"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$out/comment.md" >>"$GITHUB_STEP_SUMMARY"; fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf 'result=%s\nstatus=%s\ndigest=%s\n' "$result" "$status" "$digest" >>"$GITHUB_OUTPUT"
fi

case $result in
no-changes | changes) exit 0 ;;
conflicts) echo "bindmgr plan: conflicts; bindmgr apply would refuse this plan" >&2 ;;
*) echo "bindmgr plan failed (exit $status)" >&2 ;;
esac
exit 1
