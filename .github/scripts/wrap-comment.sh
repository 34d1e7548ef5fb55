#!/usr/bin/env bash
# Wraps the preview Markdown a pull request's workflow produced into the comment the bot posts:
# the comment's marker is written here (the artifact's own marker lines are dropped, so it cannot
# claim another stack's comment), a label says the plan was computed by the pull request's own
# code at its commit, and the body is capped in size. From a fork, the body is shown as text in a
# code fence longer than any backtick run in it, so nothing it contains renders: it cannot pass
# for a result of main.
# Usage: wrap-comment.sh STACK BODY_FILE HEAD_SHA FORK(true|false) [MAX_BYTES]   (writes to stdout)
set -euo pipefail
stack=${1:?usage: wrap-comment.sh STACK BODY_FILE HEAD_SHA FORK [MAX_BYTES]}
body=${2:?usage: wrap-comment.sh STACK BODY_FILE HEAD_SHA FORK [MAX_BYTES]}
sha=${3:?usage: wrap-comment.sh STACK BODY_FILE HEAD_SHA FORK [MAX_BYTES]}
fork=${4:?usage: wrap-comment.sh STACK BODY_FILE HEAD_SHA FORK [MAX_BYTES]}
max=${5:-20000} # GitHub takes 65,536 characters; a preview never needs a third of that
[[ $stack =~ ^[a-z0-9-]+$ ]] || { echo "wrap-comment.sh: bad stack name '$stack'" >&2; exit 2; }
[[ $sha =~ ^[0-9a-f]{40}$ ]] || { echo "wrap-comment.sh: '$sha' is not a commit id" >&2; exit 2; }
[[ $fork == true || $fork == false ]] || { echo "wrap-comment.sh: FORK must be true or false" >&2; exit 2; }
[[ $max =~ ^[0-9]+$ ]] || { echo "wrap-comment.sh: MAX_BYTES must be a number" >&2; exit 2; }

content=$(grep -v -E '^[[:space:]]*<!--[[:space:]]*immutable-edge-preview' "$body" || true)
size=${#content}
if ((size > max)); then
	content="${content:0:max}"
	content="${content%$'\n'*}"$'\n\n'"… cut at $max of $size characters."
fi

echo "<!-- immutable-edge-preview:$stack -->"
if [[ $fork == true ]]; then
	longest=$(grep -o '`\+' <<<"$content" | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
	fence=$(printf '`%.0s' $(seq 1 $((longest < 3 ? 3 : longest + 1))))
	echo "**Computed by the code of a pull request from a fork, at ${sha:0:12}: shown as text, not a result of main.**"
	echo
	echo "$fence"
	printf '%s\n' "$content"
	echo "$fence"
else
	echo "<sub>Computed by this pull request's own code at ${sha:0:12}, not by main.</sub>"
	echo
	printf '%s\n' "$content"
fi
