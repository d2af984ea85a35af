#!/usr/bin/env bash
# bindmgr-note-gitlab.sh: the merge request's one note that starts with MARKER, through GitLab's
# REST API v4 with curl and jq. The same interface as examples/github-actions/bindmgr-comment.sh:
#
#   bindmgr-note-gitlab.sh find MARKER        print the id of the newest such note (or nothing)
#   bindmgr-note-gitlab.sh body ID            print that note's body
#   bindmgr-note-gitlab.sh post MARKER FILE   update that note in place with FILE, or create it
#   bindmgr-note-gitlab.sh label LABEL        set LABEL (empty: none), removing the other bindmgr:* labels
#   bindmgr-note-gitlab.sh fetch JOB DIR      download JOB's artifact plan.json to DIR/plan.json
#   bindmgr-note-gitlab.sh merged SHA         print the iid of the merge request merged as commit SHA
#
# Only notes written by the token's own user count (GET /user; COMMENT_AUTHOR overrides the
# username): someone quoting the marker cannot take the note over, and the apply job trusts no
# plan metadata that someone else wrote.
# Needs CI_API_V4_URL, CI_PROJECT_ID (GitLab sets them), PR_NUMBER (the merge request's iid;
# not for `merged`) and BINDMGR_GITLAB_TOKEN: a project access token, scope api, role Developer
# (CI_JOB_TOKEN cannot write notes). BINDMGR_PLAN_ARTIFACT is plan.json's path inside the plan
# job's artifacts (default bindmgr-out/plan.json).
set -euo pipefail

api=${CI_API_V4_URL:?set CI_API_V4_URL to the GitLab API, e.g. https://gitlab.example.com/api/v4}
project=projects/${CI_PROJECT_ID:?set CI_PROJECT_ID to the project id}
LABELS=("bindmgr:changes" "bindmgr:conflicts" "bindmgr:no-changes")
: "${BINDMGR_GITLAB_TOKEN:?set the masked CI/CD variable BINDMGR_GITLAB_TOKEN to a project access token (scope api, role Developer)}"

# call METHOD PATH [curl options]: the response body on stdout; any status but 2xx fails, with the
# status and GitLab's message on stderr. The token goes to curl on stdin, never on its command line.
call() {
    local method=$1 path=$2 body code
    shift 2
    body=$(mktemp)
    code=$(printf 'header = "PRIVATE-TOKEN: %s"\n' "$BINDMGR_GITLAB_TOKEN" |
        curl --config - --silent --show-error --request "$method" --output "$body" \
            --write-out '%{http_code}' "$@" "$api/$path") || code=000
    case $code in
    2??)
        cat "$body"
        rm -f "$body"
        ;;
    *)
        echo "bindmgr-note-gitlab.sh: $method $api/$path: HTTP $code: $(head -c 300 "$body")" >&2
        case $code in
        401 | 403) echo "hint: BINDMGR_GITLAB_TOKEN must be a valid project access token with scope api and the Developer role" >&2 ;;
        000) echo "hint: GitLab did not answer; check CI_API_V4_URL and the runner's network" >&2 ;;
        esac
        rm -f "$body"
        return 1
        ;;
    esac
}

jqr() { jq -r "$@" | tr -d '\r'; } # a Windows jq ends its lines with CRLF

mr() { echo "$project/merge_requests/${PR_NUMBER:?set PR_NUMBER to the merge request iid}"; }

find_note() { # MARKER
    local author=${COMMENT_AUTHOR:-} page=1 found="" notes count
    if [ -z "$author" ]; then author=$(call GET user | jqr '.username // empty'); fi
    if [ -z "$author" ]; then
        echo "bindmgr-note-gitlab.sh: GET $api/user named no user; set COMMENT_AUTHOR" >&2
        return 1
    fi
    while [ "$page" -le 100 ]; do # 100 pages of 100 notes: bounded
        notes=$(call GET "$(mr)/notes" --get --data sort=asc --data order_by=created_at \
            --data per_page=100 --data "page=$page")
        # shellcheck disable=SC2016 # $author and $marker are jq's
        found+=$(jqr --arg author "$author" --arg marker "$1" '.[]
            | select(.system != true and .author.username == $author)
            | select(.body | startswith($marker)) | .id' <<<"$notes")$'\n'
        count=$(jqr length <<<"$notes")
        if [ "$count" -lt 100 ]; then break; fi
        page=$((page + 1))
    done
    grep -v '^$' <<<"$found" | tail -n 1 || true
}

case ${1:-} in
find)
    find_note "${2:?marker}"
    ;;
body)
    call GET "$(mr)/notes/${2:?note id}" | jqr .body
    ;;
post)
    id=$(find_note "${2:?marker}")
    if [ -n "$id" ]; then
        note=$(call PUT "$(mr)/notes/$id" --data-urlencode "body@${3:?file}")
    else
        note=$(call POST "$(mr)/notes" --data-urlencode "body@${3:?file}")
    fi
    echo "${CI_PROJECT_URL:-$api/$project}/-/merge_requests/$PR_NUMBER#note_$(jqr .id <<<"$note")"
    ;;
label)
    want=${2-}
    have=$(call GET "$(mr)" | jqr '.labels[]')
    remove=()
    for label in "${LABELS[@]}"; do
        if [ "$label" != "$want" ] && grep -qxF "$label" <<<"$have"; then remove+=("$label"); fi
    done
    change=()
    if [ -n "$want" ] && ! grep -qxF "$want" <<<"$have"; then
        change+=(--data-urlencode "add_labels=$want")
    fi
    if [ "${#remove[@]}" -gt 0 ]; then
        change+=(--data-urlencode "remove_labels=$(IFS=,; echo "${remove[*]}")")
    fi
    if [ "${#change[@]}" -gt 0 ]; then call PUT "$(mr)" "${change[@]}" >/dev/null; fi
    ;;
fetch)
    job=${2:?job id} dir=${3:?folder}
    mkdir -p "$dir"
    call GET "$project/jobs/$job/artifacts/${BINDMGR_PLAN_ARTIFACT:-bindmgr-out/plan.json}" \
        >"$dir/plan.json"
    ;;
merged)
    sha=${2:?commit sha}
    branch=${CI_DEFAULT_BRANCH:-${CI_COMMIT_BRANCH:?set CI_DEFAULT_BRANCH}}
    # The merge commit (merge), the squashed commit (squash) or the head itself (fast-forward).
    # shellcheck disable=SC2016 # $sha is jq's
    call GET "$project/merge_requests" --get --data state=merged --data order_by=updated_at \
        --data sort=desc --data per_page=50 --data-urlencode "target_branch=$branch" |
        jqr --arg sha "$sha" '[.[] | select(.merge_commit_sha == $sha
            or .squash_commit_sha == $sha or .sha == $sha)][0].iid // empty'
    ;;
*)
    echo "usage: $0 find MARKER | body ID | post MARKER FILE | label [LABEL] | fetch JOB DIR | merged SHA" >&2
    exit 1
    ;;
esac
