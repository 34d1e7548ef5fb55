#!/usr/bin/env bash
# Creates or edits the one preview comment of a stack on a pull request: the comment that this
# workflow's bot wrote and that starts with the stack's marker (cmd/prcomment writes it first).
# Usage: upsert-comment.sh REPO PR_NUMBER BODY_FILE      (needs gh and GH_TOKEN)
set -euo pipefail
repo=${1:?usage: upsert-comment.sh REPO PR_NUMBER BODY_FILE}
pr=${2:?usage: upsert-comment.sh REPO PR_NUMBER BODY_FILE}
body=${3:?usage: upsert-comment.sh REPO PR_NUMBER BODY_FILE}
[[ $pr =~ ^[0-9]+$ ]] || { echo "upsert-comment.sh: '$pr' is not a pull request number" >&2; exit 2; }
marker=$(head -n 1 "$body")
[[ $marker =~ ^\<!--\ immutable-edge-preview:[a-z0-9-]+\ --\>$ ]] || { echo "upsert-comment.sh: $body does not start with a preview marker" >&2; exit 2; }

existing=$(gh api --paginate "repos/$repo/issues/$pr/comments" \
	--jq ".[] | select(.user.login == \"github-actions[bot]\" and (.body | startswith(\"$marker\"))) | .id" | head -n 1)
if [[ -n $existing ]]; then
	gh api --method PATCH "repos/$repo/issues/comments/$existing" -F "body=@$body" >/dev/null
	echo "updated comment $existing on #$pr"
else
	gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$body" >/dev/null
	echo "commented on #$pr"
fi
