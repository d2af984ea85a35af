#!/usr/bin/env bash
# bindmgr-gitlab.sh plan|apply: the GitLab CI jobs' entry point. It maps GitLab's predefined
# variables onto the ones bindmgr-plan.sh and bindmgr-apply.sh read, points them at the GitLab
# note backend (bindmgr-note-gitlab.sh), and runs them; their exit status is the job's.
#
#   plan   in a merge request pipeline: PR_NUMBER is CI_MERGE_REQUEST_IID, HEAD_SHA the source
#          branch's commit; the note's metadata names this job (CI_JOB_ID), whose artifact keeps
#          bindmgr-out/plan.json for the apply.
#   apply  in the default branch's pipeline after the merge: the merge request is the one merged
#          as CI_COMMIT_SHA (merge commit, squashed commit or fast-forward head).
#
# The scripts live side by side (.gitlab/bindmgr/ in the repository): this one, the note backend,
# and bindmgr-plan.sh and bindmgr-apply.sh from examples/github-actions/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export BINDMGR_COMMENT="$here/bindmgr-note-gitlab.sh"
export BINDMGR_RUN_ID=${CI_JOB_ID:?run this in a GitLab CI job (CI_JOB_ID is not set)}
export BINDMGR_RUN_URL=${CI_JOB_URL:?run this in a GitLab CI job (CI_JOB_URL is not set)}
export BINDMGR_REQUEST="merge request"

case ${1:-} in
plan)
    export PR_NUMBER=${CI_MERGE_REQUEST_IID:?the plan job runs in merge request pipelines only}
    # A merged results pipeline runs on a merge ref: the reviewed commit is the source branch's.
    export HEAD_SHA=${CI_MERGE_REQUEST_SOURCE_BRANCH_SHA:-${CI_COMMIT_SHA:?}}
    status=0
    bash "$here/bindmgr-plan.sh" || status=$?
    exit "$status"
    ;;
apply)
    sha=${CI_COMMIT_SHA:?}
    iid=$("$BINDMGR_COMMENT" merged "$sha")
    if [ -z "$iid" ]; then
        echo "bindmgr apply: no merge request was merged into ${CI_DEFAULT_BRANCH:-the default branch} as $sha;" \
            "nothing is applied without a reviewed plan (was this commit pushed directly?)" >&2
        exit 1
    fi
    export PR_NUMBER=$iid
    status=0
    bash "$here/bindmgr-apply.sh" || status=$?
    exit "$status"
    ;;
*)
    echo "usage: $0 plan | apply" >&2
    exit 1
    ;;
esac
