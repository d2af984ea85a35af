#!/usr/bin/env bash
# bindmgr-comment.sh: the pull request's one comment that starts with MARKER, through `gh api`.
#
#   bindmgr-comment.sh find MARKER        print the id of the newest such comment (or nothing)
#   bindmgr-comment.sh body ID            print that comment's body
#   bindmgr-comment.sh post MARKER FILE   update that comment in place with FILE, or create it
#   bindmgr-comment.sh label LABEL        set LABEL (empty: none), removing the other bindmgr:* labels
#   bindmgr-comment.sh fetch RUN DIR      download run RUN's artifact bindmgr-plan (plan.json) to DIR
#
# Only comments written by COMMENT_AUTHOR count (default github-actions[bot], the login of the
# workflow's GITHUB_TOKEN): a reviewer quoting the marker cannot take the comment over, and the
# apply job trusts no plan metadata that someone else wrote.
# Needs GITHUB_REPOSITORY (owner/name), PR_NUMBER and GH_TOKEN, as GitHub Actions sets them.
set -euo pipefail

repo=${GITHUB_REPOSITORY:?set GITHUB_REPOSITORY to owner/name}
pr=${PR_NUMBER:?set PR_NUMBER to the pull request number}
author=${COMMENT_AUTHOR:-github-actions[bot]}
LABELS=("bindmgr:changes" "bindmgr:conflicts" "bindmgr:no-changes")

find_comment() { # MARKER
    local filter=".[] | select(.user.login == \"$author\")"
    filter+=" | select(.body | startswith(\"$1\")) | .id"
    gh api --paginate "repos/$repo/issues/$pr/comments" --jq "$filter" | tail -n 1
}

case ${1:-} in
find)
    find_comment "${2:?marker}"
    ;;
body)
    gh api "repos/$repo/issues/comments/${2:?comment id}" --jq .body
    ;;
post)
    id=$(find_comment "${2:?marker}")
    if [ -n "$id" ]; then
        gh api -X PATCH "repos/$repo/issues/comments/$id" -F "body=@${3:?file}" --jq .html_url
    else
        gh api -X POST "repos/$repo/issues/$pr/comments" -F "body=@${3:?file}" --jq .html_url
    fi
    ;;
label)
    want=${2-}
    have=$(gh api "repos/$repo/issues/$pr/labels" --jq '.[].name')
    for label in "${LABELS[@]}"; do
        if [ "$label" != "$want" ] && grep -qxF "$label" <<<"$have"; then
            gh api -X DELETE "repos/$repo/issues/$pr/labels/$label" --silent
        fi
    done
    if [ -n "$want" ] && ! grep -qxF "$want" <<<"$have"; then
        gh api -X POST "repos/$repo/issues/$pr/labels" -f "labels[]=$want" --silent
    fi
    ;;
fetch)
    gh run download "${2:?run id}" --repo "$repo" --name bindmgr-plan --dir "${3:?folder}"
    ;;
*)
    echo "usage: $0 find MARKER | body ID | post MARKER FILE | label [LABEL] | fetch RUN DIR" >&2
    exit 1
    ;;
esac
