package alert

import (
	"net/url"
	"strings"
	"time"
)

// Alarm names the CloudWatch alarm behind a KindAlarm alert and its state
// change, as its notification reported it.
type Alarm struct {
	Name          string    `json:"name"`
	ARN           string    `json:"arn"`
	State         string    `json:"state"`         // ALARM | OK
	PreviousState string    `json:"previousState"` // ALARM | OK | INSUFFICIENT_DATA
	Changed       time.Time `json:"changed"`       // the notification's StateChangeTime
}

// alarmLines are the e-mail lines of an alarm alert.
func alarmLines(a Alert, line func(label, v string)) {
	if al := a.Alarm; al != nil {
		line("Alarm", al.Name)
		line("State", al.PreviousState+" -> "+al.State+" at "+timeText(al.Changed))
	}
}

// alarmConsoleURL opens the alarm in the CloudWatch console of its Region
// (host as ConsoleURL), e.g.
// https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/NAME.
func alarmConsoleURL(a Alert) string {
	host := consoleHost(a.Region)
	if host == "" || a.Alarm == nil {
		return ""
	}
	return "https://" + host + "/cloudwatch/home?region=" + url.QueryEscape(a.Region) +
		"#alarmsV2:alarm/" + strings.ReplaceAll(url.PathEscape(a.Alarm.Name), "+", "%2B")
}
