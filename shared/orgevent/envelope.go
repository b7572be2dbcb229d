package orgevent

import "encoding/json"

// Envelope is an EventBridge event. The keys are EventBridge's exactly; Detail
// stays raw for the consumer, as in aws-lambda-go's events.CloudWatchEvent.
// Time is kept as a string so that an odd timestamp does not make the whole
// event unreadable.
type Envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// CloudTrailDetail is the detail of an "AWS API Call via CloudTrail" or
// "AWS Service Event via CloudTrail" event: one CloudTrail record. Only the
// fields this package reads are declared; errorMessage is deliberately left
// out (free text that may quote e-mail addresses).
type CloudTrailDetail struct {
	EventVersion        string          `json:"eventVersion"`
	UserIdentity        *UserIdentity   `json:"userIdentity"`
	EventTime           string          `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	EventID             string          `json:"eventID"`
	EventType           string          `json:"eventType"`
	RecipientAccountID  string          `json:"recipientAccountId"`
	ServiceEventDetails json.RawMessage `json:"serviceEventDetails"`
}

// UserIdentity is CloudTrail's userIdentity element.
type UserIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId"`
	ARN            string          `json:"arn"`
	AccountID      string          `json:"accountId"`
	InvokedBy      string          `json:"invokedBy"`
	SessionContext *SessionContext `json:"sessionContext"`
}

// SessionContext is userIdentity.sessionContext.
type SessionContext struct {
	SessionIssuer *SessionIssuer `json:"sessionIssuer"`
}

// SessionIssuer is userIdentity.sessionContext.sessionIssuer; for a role,
// UserName is the role's name and ARN its IAM ARN.
type SessionIssuer struct {
	Type      string `json:"type"`
	ARN       string `json:"arn"`
	AccountID string `json:"accountId"`
	UserName  string `json:"userName"`
}

// CreateAccountStatus is Organizations' createAccountStatus as CloudTrail
// renders it (timestamps are strings such as "May 15, 2023 8:26:54 AM").
type CreateAccountStatus struct {
	ID                 string `json:"id"`
	State              string `json:"state"`
	AccountID          string `json:"accountId"`
	AccountName        string `json:"accountName"`
	FailureReason      string `json:"failureReason"`
	RequestedTimestamp string `json:"requestedTimestamp"`
	CompletedTimestamp string `json:"completedTimestamp"`
}

// Handshake is Organizations' handshake as CloudTrail renders it.
type Handshake struct {
	ID      string           `json:"id"`
	ARN     string           `json:"arn"`
	State   string           `json:"state"`
	Action  string           `json:"action"`
	Parties []HandshakeParty `json:"parties"`
}

// HandshakeParty is one party of a handshake: ORGANIZATION, ACCOUNT or EMAIL.
type HandshakeParty struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// sqsEvent is the Lambda SQS event, records kept raw so that one bad record
// does not hide the others.
type sqsEvent struct {
	Records []json.RawMessage `json:"Records"`
}

// sqsRecord is the part of a Lambda SQS record this package reads.
type sqsRecord struct {
	MessageID   string `json:"messageId"`
	Body        string `json:"body"`
	EventSource string `json:"eventSource"`
}
