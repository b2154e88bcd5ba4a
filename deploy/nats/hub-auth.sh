#!/usr/bin/env bash
# Writes the NATS users of one Liandong hub, each service with only the subjects it needs, as
# an `authorization` block for nats-server:
#
#   deploy/nats/hub-auth.sh [ROOT [PREFIX]] > /etc/nats/hub-auth.conf
#   # and in the server's configuration:  include ./hub-auth.conf
#
# ROOT is the hub's `subject_root` (default `liandong`), PREFIX its `stream_prefix` (default
# `LIANDONG_`); the tests pass their own. Each user's password comes from the environment,
# LIANDONG_NATS_{BRIGADE,BOARD,COUNTY,REVIEW,DISCLOSURE,READMODEL,ADMIN}_PASSWORD (a missing one is an
# error); a bcrypt hash from `nats server passwd` may stand in its place and keeps the secret
# out of the file. A service connects as its user with `[nats_auth.<service>]` in the hub's
# configuration, or LIANDONG_NATS_USER and LIANDONG_NATS_PASSWORD_FILE in its environment.
# JetStream runs in the server's global account.
#
# The policy (ARCHITECTURE.md, "Isolated subjects"). A service user may:
# - publish its own events, `<root>.v1.<service>.>`, and no other source's;
# - answer receipts to the services whose events it receives, `<root>.v1.receipt.<sender>.*`,
#   and dead-letter into `<root>.v1.dlq.<service>.>`;
# - look at every stream of the hub (STREAM.INFO: settings and counts, never messages), since
#   every service checks them all at start (Bus::ensure_streams);
# - create and update only its own source stream and the shared RECEIPTS and DLQ streams: a
#   stream is managed by the service that publishes into it. A service that starts before a
#   stream's owner waits for the owner to create it (ensure_streams tries again for about a
#   minute); a changed stream setting is applied by the owner's next start, or by `admin`;
# - create its own durable consumers only, each pinned to a filter it is allowed to read
#   (CONSUMER.CREATE.<stream>.<durable>.<filter>; NATS 2.10+ refuses a consumer whose
#   filter differs from the request subject's), then look at, pull from and acknowledge
#   them; so it cannot read a stream, or an event in one, that it does not consume;
# - receive replies only in its own inboxes, `_INBOX.<service>.>` (Bus::connect sets that
#   prefix), so it cannot read what another service pulls.
# `admin` may do anything: operators (replaying dead letters, purging, changing streams) and
# the tests' clean-up. No service uses it.
#
# CONSUMERS below follows the ConsumerSpecs in services/*/src/lib.rs: one line per (service,
# stream, durable), with every filter the durable may carry. A spec with one filter runs as
# `<durable>`, one with several as `<durable>-1`, `-2`, ... (Runtime::consume), so each of
# those names may carry any of the line's filters. A consumer added to a service is added here; tests/it/nats_auth.rs runs every
# service under these users and fails on any permissions violation in the server's log.
set -euo pipefail

root="${1:-liandong}"
prefix="${2:-LIANDONG_}"
token='^[A-Za-z0-9_-]+$'
[[ "$root" =~ $token ]] || { echo "the subject root must be one NATS token: $root" >&2; exit 2; }
[[ "$prefix" =~ $token ]] || { echo "the stream prefix must be letters, digits, _ or -: $prefix" >&2; exit 2; }

SERVICES=(brigade board county review disclosure readmodel)
STREAMS=(BRIGADE BOARD COUNTY REVIEW DISCLOSURE RECEIPTS DLQ)

# service  stream  durable  filters (after `<root>.v1.`), space-separated
CONSUMERS=(
  "brigade    COUNTY   brigade-from-county     county.>"
  "brigade    BOARD    brigade-from-board      board.*.*._"
  "brigade    REVIEW   brigade-from-review     review.*.*._"
  "board      BRIGADE  board-from-brigade      brigade.joint_submitted.*.* brigade.joint_executed.*.*"
  "board      COUNTY   board-from-county       county.referral_returned.*.* county.entrusted_decision_recorded.*.* county.task_completed.*.* county.entrusted_decision_changed.*.*"
  "board      BRIGADE  board-callbacks         brigade.callback_recorded.*.*"
  "board      COUNTY   board-clocks            county.obligation_overdue.*.* county.obligation_met.*.* county.extension_requested.*.*"
  "board      BRIGADE  board-activities        brigade.patrol_recorded.*.* brigade.persuasion_recorded.*.*"
  "board      BRIGADE  board-brigade-clocks    brigade.obligation_overdue.*.* brigade.obligation_met.*.*"
  "county     BRIGADE  county-from-brigade     brigade.referral_dispatched.*.* brigade.referral_withdrawn.*.* brigade.case_handed_over.*.*"
  "county     BOARD    county-from-board       board.task_assigned.*.*"
  "county     BOARD    county-clocks           board.extension_granted.*.* board.extension_refused.*.*"
  "county     REVIEW   county-from-review      review.*.*.*"
  "review     BRIGADE  review-from-brigade     brigade.review_requested.*.* brigade.officer_certificate_changed.*.*"
  "review     COUNTY   review-from-county      county.review_requested.*.* county.officer_certificate_changed.*.*"
  "disclosure BRIGADE  disclosure-from-brigade brigade.case_concluded.*.* brigade.decision_changed.*.*"
  "disclosure COUNTY   disclosure-from-county  county.referral_concluded.*.* county.entrusted_decision_recorded.*.* county.decision_changed.*.* county.entrusted_decision_changed.*.*"
  "readmodel  BRIGADE  readmodel-from-brigade  brigade.>"
  "readmodel  BOARD    readmodel-from-board    board.>"
  "readmodel  COUNTY   readmodel-from-county   county.>"
  "readmodel  REVIEW   readmodel-from-review   review.>"
  "readmodel  DISCLOSURE readmodel-from-disclosure disclosure.>"
)

# Whose events each service receives, and so answers with receipts (bus::routes).
declare -A RECEIPTS_TO=(
  [brigade]="county board review"
  [board]="brigade county"
  [county]="brigade board review"
  [review]="brigade county"
  [disclosure]="brigade county"
  # The read model observes every stream and is no event's receiver.
  [readmodel]=""
)

password() {
  local var="LIANDONG_NATS_${1^^}_PASSWORD"
  local pass="${!var:-}"
  [ -n "$pass" ] || { echo "$var is not set" >&2; exit 2; }
  case "$pass" in *'"'* | *'\'*) echo "$var must not contain \" or \\" >&2; exit 2 ;; esac
  printf '%s' "$pass"
}

allow() { printf '            "%s"\n' "$1"; }

consumer() {
  # consumer STREAM DURABLE FILTER...: create (pinned to each filter), info, pull, ack.
  local stream="$prefix$1" durable="$2"; shift 2
  local names=("$durable") n f name
  if [ $# -gt 1 ]; then for ((n = 1; n <= $#; n++)); do names+=("$durable-$n"); done; fi
  for name in "${names[@]}"; do
    for f in "$@"; do allow "\$JS.API.CONSUMER.CREATE.$stream.$name.$root.v1.$f"; done
    allow "\$JS.API.CONSUMER.INFO.$stream.$name"
    allow "\$JS.API.CONSUMER.MSG.NEXT.$stream.$name"
    allow "\$JS.ACK.$stream.$name.>"
  done
}

user() {
  local svc="$1" own="${1^^}" s to line
  cat <<CONF
    {
      user: $svc
      password: "$(password "$svc")"
      permissions: {
        publish: {
          allow: [
CONF
  allow "$root.v1.$svc.>"
  for to in ${RECEIPTS_TO[$svc]}; do allow "$root.v1.receipt.$to.*"; done
  allow "$root.v1.dlq.$svc.>"
  allow "\$JS.API.INFO"
  for s in "${STREAMS[@]}"; do allow "\$JS.API.STREAM.INFO.$prefix$s"; done
  for s in "$own" RECEIPTS DLQ; do
    allow "\$JS.API.STREAM.CREATE.$prefix$s"
    allow "\$JS.API.STREAM.UPDATE.$prefix$s"
  done
  for line in "${CONSUMERS[@]}"; do
    # shellcheck disable=SC2086 # the line is split into its words on purpose
    set -- $line
    [ "$1" = "$svc" ] || continue
    shift
    consumer "$@"
  done
  consumer RECEIPTS "$svc-receipts" "receipt.$svc.*"
  cat <<CONF
          ]
        }
        subscribe: {
          allow: ["_INBOX.$svc.>"]
        }
      }
    }
CONF
}

for who in "${SERVICES[@]}" admin; do password "$who" >/dev/null; done
# `set -f`: the filters' `*` and `>` are words, never file names.
set -f
echo "# Generated by deploy/nats/hub-auth.sh for subject root $root and stream prefix $prefix."
echo "authorization {"
echo "  users = ["
for svc in "${SERVICES[@]}"; do user "$svc"; done
cat <<CONF
    {
      user: admin
      password: "$(password admin)"
    }
  ]
}
CONF
