// Package integritybench measures log file validation against the AWS CLI
// (its tests and benchmarks only): one emulated bucket of simulator output
// (internal/cloudtrailsim), validated by `aws cloudtrail validate-logs`
// (one run per Region, as it requires), by the stateless `trailwarden
// integrity verify`, and by the continuous mode (shared/integritywatch fed
// every digest once, as the verifier is). Every client reaches the emulator
// through a counting proxy (internal/countingproxy) in a process of its
// own, so S3 requests and bytes are counted at the emulator, and each
// validator's CPU time excludes the emulator's and the proxy's.
package integritybench
