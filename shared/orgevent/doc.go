// Package orgevent turns one EventBridge event — an AWS Organizations
// membership event, or a CloudTrail API call that tampers with a trail — into
// a Decision: enable, reevaluate, record, ignore, reject or drift. It is pure
// (no I/O, no clock, no logging) and fuzzed.
//
// Input is the event JSON, either bare or as the body of an SQS message
// (EventBridge → SQS puts the event JSON in the body unchanged). DecideSQSEvent
// unwraps a whole Lambda SQS event for the `explain` command.
//
// What the package relies on (see events/organizations/README.md for the
// samples):
//
//   - Every field is read under "detail" (never at the envelope's top level),
//     and event names are compared exactly as AWS spells them
//     ("AcceptHandshake", not "AcceptHandShake").
//   - Enumerated values (handshake state and action, createAccountStatus
//     state, joined and departure methods, invitation target type) are
//     compared case-insensitively: AWS renders them as "INVITE" in one place
//     and "invite" in another.
//   - CreateAccountResult and handshake timestamps are not ISO-8601 ("May 15,
//     2023 8:26:54 AM"); ParseTimestamp reads those and ISO-8601.
//   - AccountJoinedOrganization / AccountDepartedOrganization (2026) have no
//     public sample. The API reference says only that they carry joinedMethod
//     (Created | Invited) and joinedTime, departureMethod (Left | Removed |
//     Cleaned) and departureTime. This package accepts them under the
//     "AWS Service Event via CloudTrail" detail-type (eventName in detail) or
//     under a dedicated detail-type naming the event, and looks for the
//     member account id, in order, at serviceEventDetails.accountId,
//     serviceEventDetails.account.id / .accountId,
//     serviceEventDetails.<eventName>.accountId, requestParameters.accountId,
//     and the account ARN in the envelope's resources. Key spellings
//     joinedMethod / joinMethod and departureMethod / departedMethod are all
//     accepted. Anything else is rejected with a reason, never guessed.
//
// No Decision field ever carries an e-mail address: every string copied from
// an event is clipped and any token containing "@" is replaced by
// "<redacted>". Decisions never hold the whole event, so they are safe to log
// (Decision implements slog.LogValuer).
package orgevent
