package notification

import "strconv"

// field is a top-level member this package reads, from any of the shapes.
type field uint8

const (
	fType field = iota
	fMessageID
	fTopicArn
	fSubject
	fMessage
	fTimestamp
	fBucket
	fKeys
	fSource
	fDetailType
	fDetail
	fID
	fAccount
	fRegion
	fTime
	fRecords
	nFields
)

var fieldNames = [nFields]string{
	"Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
	"s3Bucket", "s3ObjectKey",
	"source", "detail-type", "detail", "id", "account", "region", "time",
	"Records",
}

func lookupField(name string) (field, bool) {
	switch name {
	case "Type":
		return fType, true
	case "MessageId":
		return fMessageID, true
	case "TopicArn":
		return fTopicArn, true
	case "Subject":
		return fSubject, true
	case "Message":
		return fMessage, true
	case "Timestamp":
		return fTimestamp, true
	case "s3Bucket":
		return fBucket, true
	case "s3ObjectKey":
		return fKeys, true
	case "source":
		return fSource, true
	case "detail-type":
		return fDetailType, true
	case "detail":
		return fDetail, true
	case "id":
		return fID, true
	case "account":
		return fAccount, true
	case "region":
		return fRegion, true
	case "time":
		return fTime, true
	case "Records":
		return fRecords, true
	}
	return 0, false
}

// fields holds the members read from one JSON object.
type fields struct {
	present uint32 // string (or array/object) value present
	seen    uint32 // member seen at all, for duplicate detection
	esc     uint32 // raw string holds escapes
	raw     [nFields]string
	detail  string // raw text of the detail object
	// keys of s3ObjectKey are appended to the parser's arena from keyStart.
	keyStart, keyCount int
	// problem is the first type or duplicate error.
	problem string
	// extra is the first member name that no SNS envelope has (the SNS
	// envelope refuses it; other shapes ignore unknown members).
	extra string
	// others holds the first unknown member names, for duplicate
	// detection without an allocation.
	others  [16]string
	nOthers int
	// dupShape: Type or source appears twice, so the body's very shape is
	// ambiguous.
	dupShape bool
}

// otherSeen records an unknown member name and reports a duplicate.
func (f *fields) otherSeen(name string) bool {
	for _, o := range f.others[:f.nOthers] {
		if o == name {
			return true
		}
	}
	if f.nOthers < len(f.others) {
		f.others[f.nOthers] = name
		f.nOthers++
	}
	return false
}

// snsEnvelopeKey reports whether name is a member of an SNS message as SNS
// documents it ("HTTP/HTTPS notification JSON format" and its subscription
// confirmation counterpart in the Amazon SNS developer guide), plus
// MessageAttributes (raw delivery off, attributes set) and SequenceNumber
// (FIFO topics).
func snsEnvelopeKey(name string) bool {
	switch name {
	case "Type", "MessageId", "Token", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion", "Signature",
		"SigningCertURL", "SubscribeURL", "UnsubscribeURL", "MessageAttributes", "SequenceNumber":
		return true
	}
	return false
}

func (f *fields) has(x field) bool { return f.present&(1<<x) != 0 }

func (f *fields) str(x field) string { return unquote(f.raw[x], f.esc&(1<<x) != 0) }

func (f *fields) cloudTrailShaped() bool { return f.seen&(1<<fBucket|1<<fKeys) != 0 }

func (f *fields) setProblem(s string) {
	if f.problem == "" {
		f.problem = s
	}
}

// readObject reads the object at the cursor into f, appending s3ObjectKey
// entries to the arena. It returns false on a syntax error (sc.err).
func (p *Parser) readObject(sc *scanner, f *fields) bool {
	sc.i++ // '{', checked by the caller
	f.keyStart = len(p.arena)
	first := true
	for {
		name, esc, more := sc.member(&first)
		if !more {
			return sc.err == ""
		}
		if esc {
			name = unquote(name, true)
		}
		x, known := lookupField(name)
		if f.extra == "" && !snsEnvelopeKey(name) {
			f.extra = name
		}
		if !known {
			if f.otherSeen(name) {
				f.setProblem("duplicate field " + clipName(name))
			}
			if !sc.skip(1) {
				return false
			}
			continue
		}
		bit := uint32(1) << x
		dup := f.seen&bit != 0
		f.seen |= bit
		if dup {
			f.dupShape = f.dupShape || x == fType || x == fSource
			f.setProblem("duplicate field " + fieldNames[x])
			if !sc.skip(1) {
				return false
			}
			continue
		}
		switch x {
		case fKeys:
			if !p.readKeys(sc, f) {
				return false
			}
			f.present |= bit
		case fDetail:
			if sc.peek() != '{' {
				f.setProblem("detail is not an object")
				if !sc.skip(1) {
					return false
				}
				continue
			}
			start := sc.i
			if !sc.skip(1) {
				return false
			}
			f.detail = sc.s[start:sc.i]
			f.present |= bit
		case fRecords:
			if !sc.skip(1) {
				return false
			}
			f.present |= bit
		default:
			switch sc.peek() {
			case '"':
				raw, e, ok := sc.str()
				if !ok {
					return false
				}
				f.raw[x] = raw
				f.present |= bit
				if e {
					f.esc |= bit
				}
			case 'n':
				if !sc.lit("null") {
					return false
				}
			default:
				f.setProblem(fieldNames[x] + " is not a string")
				if !sc.skip(1) {
					return false
				}
			}
		}
	}
}

// readKeys reads the s3ObjectKey array into the arena.
func (p *Parser) readKeys(sc *scanner, f *fields) bool {
	if sc.peek() != '[' {
		f.setProblem("s3ObjectKey is not an array")
		return sc.skip(1)
	}
	sc.i++
	first := true
	for sc.elem(&first) {
		if sc.peek() != '"' {
			f.setProblem("s3ObjectKey holds a value that is not a string")
			if !sc.skip(2) {
				return false
			}
			continue
		}
		raw, esc, ok := sc.str()
		if !ok {
			return false
		}
		key := unquote(raw, esc)
		if key == "" || len(key) > MaxKeyLen {
			f.setProblem("s3ObjectKey holds an empty key or one longer than 1024 bytes")
		}
		if f.keyCount < MaxKeys {
			p.arena = append(p.arena, key)
		}
		f.keyCount++
	}
	return sc.err == ""
}

// s3Detail is the part of an S3 EventBridge event's detail this package
// reads: bucket.name, object.key, object.size, object.etag (or eTag).
type s3Detail struct {
	bucket  string
	key     string
	hasKey  bool
	size    int64
	etag    string
	problem string
}

func (d *s3Detail) read(sc *scanner) bool {
	d.size = -1
	sc.i++ // '{'
	first := true
	for {
		name, esc, more := sc.member(&first)
		if !more {
			return sc.err == "" && d.problem == ""
		}
		if esc {
			name = unquote(name, true)
		}
		var ok bool
		switch name {
		case "bucket":
			ok = d.readBucket(sc)
		case "object":
			ok = d.readObject(sc)
		default:
			ok = sc.skip(2)
		}
		if !ok {
			return false
		}
	}
}

// stringValue reads a string or null; other types set problem and are
// skipped.
func (d *s3Detail) stringValue(sc *scanner, what string) (string, bool, bool) {
	switch sc.peek() {
	case '"':
		raw, esc, ok := sc.str()
		return unquote(raw, esc), true, ok
	case 'n':
		return "", false, sc.lit("null")
	}
	if d.problem == "" {
		d.problem = what + " is not a string"
	}
	return "", false, sc.skip(3)
}

func (d *s3Detail) readBucket(sc *scanner) bool {
	if sc.peek() != '{' {
		d.problem = "detail.bucket is not an object"
		return sc.skip(2)
	}
	sc.i++
	first := true
	for {
		name, esc, more := sc.member(&first)
		if !more {
			return sc.err == ""
		}
		if esc {
			name = unquote(name, true)
		}
		if name != "name" {
			if !sc.skip(3) {
				return false
			}
			continue
		}
		s, _, ok := d.stringValue(sc, "detail.bucket.name")
		if !ok {
			return false
		}
		d.bucket = s
	}
}

func (d *s3Detail) readObject(sc *scanner) bool {
	if sc.peek() != '{' {
		d.problem = "detail.object is not an object"
		return sc.skip(2)
	}
	sc.i++
	first := true
	for {
		name, esc, more := sc.member(&first)
		if !more {
			return sc.err == ""
		}
		if esc {
			name = unquote(name, true)
		}
		switch name {
		case "key":
			s, present, ok := d.stringValue(sc, "detail.object.key")
			if !ok {
				return false
			}
			d.key, d.hasKey = s, present
		case "etag", "eTag":
			s, _, ok := d.stringValue(sc, "detail.object."+name)
			if !ok {
				return false
			}
			if d.etag == "" {
				d.etag = s
			}
		case "size":
			c := sc.peek()
			if c == '-' || (c >= '0' && c <= '9') {
				start := sc.i
				if !sc.num() {
					return false
				}
				n, err := strconv.ParseInt(sc.s[start:sc.i], 10, 64)
				if err != nil || n < 0 {
					if d.problem == "" {
						d.problem = "detail.object.size is not a non-negative integer"
					}
				} else {
					d.size = n
				}
				continue
			}
			if c == 'n' {
				if !sc.lit("null") {
					return false
				}
				continue
			}
			if d.problem == "" {
				d.problem = "detail.object.size is not a number"
			}
			if !sc.skip(3) {
				return false
			}
		default:
			if !sc.skip(3) {
				return false
			}
		}
	}
}
