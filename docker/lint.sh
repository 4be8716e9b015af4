#!/usr/bin/env bash
# Lints docker/Dockerfile. There is no Docker engine on the development machines or in CI, so the image is
# checked here, not built: dockerfilelint (from npm; hadolint is packaged for neither Debian nor npm) for the
# Dockerfile rules, and DockerfileTest (server module, part of the normal build) for what the image must do.
#
# dockerfilelint 1.8.0 predates two Dockerfile features used here and reports them as issues; they are listed
# and accepted by name, anything else fails:
#  * "FROM --platform=$BUILDPLATFORM image:tag": it reads "--platform=..." as the image and finds no tag;
#  * "HEALTHCHECK --start-period=...": its option check matches \w+ and so stops at the hyphen.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if ! command -v npx >/dev/null; then
  echo "docker/lint.sh: npx (Node.js) is needed to run dockerfilelint" >&2
  exit 2
fi
report="$(npx --yes dockerfilelint@1.8.0 -o json Dockerfile || true)"
node -e '
const r = JSON.parse(process.argv[1]);
let unexpected = 0;
for (const f of r.files) for (const i of f.issues) {
  const known = (i.title === "Base Image Missing Tag" && /^FROM --platform=\S+ \S+:\S+/.test(i.content))
      || (i.title === "Invalid Argument Format" && /^HEALTHCHECK .*--start-period=/.test(i.content));
  if (!known) unexpected++;
  console.log(`${f.file}:${i.line}: ${known ? "known false positive" : "ISSUE"}: ${i.title}: ${i.content}`);
}
console.log(`dockerfilelint: ${r.totalIssues} reported, ${unexpected} unexpected`);
process.exit(unexpected ? 1 : 0);
' "$report"
