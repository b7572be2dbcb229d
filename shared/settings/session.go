package settings

import "strings"

// RoleSessionName is the role session name of every role trailwarden's
// functions assume (member roles, the organization reader). The enabler's
// loop guard recognises trailwarden's own changes by this exact name and
// nothing else.
const RoleSessionName = "trailwarden"

// CLISessionPrefix starts the session names of the CLI, so that an
// operator's `trailwarden enable --yes` is a change by that operator, never
// mistaken for the functions' own.
const CLISessionPrefix = "trailwarden-cli-"

// CLISessionName is the CLI's role session name for user: the prefix and
// the user name, restricted to the characters STS allows in a session name
// ([\w+=,.@-], at most 64; AssumeRole API reference), others replaced by
// "-".
func CLISessionName(user string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("_+=,.@-", r):
			return r
		}
		return '-'
	}, user)
	if clean == "" {
		clean = "operator"
	}
	s := CLISessionPrefix + clean
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
