// Package emulator runs moto, trailwarden's AWS stand-in, for tests and the
// local demo, and builds organizations in it through the real
// aws-sdk-go-v2 clients.
//
// # Servers
//
// Start launches internal/emulator/moto/launcher.py (moto with trailwarden's
// fidelity patches; Options.Unpatched for plain moto) on 127.0.0.1 on a free
// port, with TZ=UTC and without MOTO_ACCOUNT_ID, and waits until it answers;
// Close stops its process group. The Python is <repo>/.venv/bin/python
// (`make venv` creates it) or $TRAILWARDEN_PYTHON; the repository is
// $TRAILWARDEN_REPO or the nearest directory above the working directory
// with a go.mod. With $TRAILWARDEN_EMULATOR_URL set, Start uses that server
// instead and Close leaves it running.
//
// Reset clears all state and seeds moto so generated ids repeat. It also
// forgets every assumed credential: a config made before a Reset silently
// acts in the default account afterwards, so build configs after resetting.
//
// # Configs
//
// ManagementConfig (moto's default account 123456789012, which plays the
// management account), Config (any account, through moto's account header)
// and AssumeConfig (sts:AssumeRole on a member's role, as AWS does) return
// aws.Config values aimed at the server, with two attempts and short
// backoff. An action moto does not implement fails at once with a
// *NotEmulatedError ("emulator: moto does not implement
// cloudtrail:GetEventDataStore"); it is never retried.
//
// Two clients need options against moto:
//
//	s3.NewFromConfig(cfg, emulator.S3Options)                 // path-style buckets
//	cloudwatch.NewFromConfig(cfg, emulator.CloudWatchOptions) // awsQuery, not RPCv2 CBOR
//
// # Tests
//
// Each test binary shares one server, started on first use by Shared and
// stopped by RunTests. Put this in one _test.go file of the package:
//
//	func TestMain(m *testing.M) { emulator.RunTests(m) }
//
// A test then builds a fresh world: NewEnv resets the shared server and
// creates an organization (all features) with a logging account and one
// member, "member-1", each reachable through OrganizationAccountAccessRole:
//
//	func TestEnable(t *testing.T) {
//		env := emulator.NewEnv(t)
//		member := env.MustMember("member-1")
//		ct := cloudtrail.NewFromConfig(member.Config)
//		_, err := ct.CreateTrail(t.Context(), &cloudtrail.CreateTrailInput{...})
//		...
//	}
//
// NewEnvWith takes a WorldSpec for OUs and more members. Tests that share
// the server must not call t.Parallel: every NewEnv resets the state other
// tests use. Packages still run in parallel, since each test binary has its
// own server. When moto cannot start, Shared fails the test with the reason
// and moto's last output; it never skips.
//
// Outside tests (the demo), use Start, Server.Reset and Server.BuildWorld,
// which take a context and return errors.
package emulator
