package integrity

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// MaxDigestSize bounds an uncompressed digest file. AWS documents no limit;
// a digest lists one ~400-byte entry per log file of an hour, so 64 MiB is
// far above any real one and keeps a hostile object from exhausting memory.
const MaxDigestSize = 64 << 20

var (
	// ErrNotGzip: the object is not a gzip stream (or is corrupt).
	ErrNotGzip = errors.New("not a valid gzip stream")
	// ErrTrailingData: bytes follow the first gzip member. CloudTrail
	// writes one member; the AWS CLI reports such a file invalid ("unexpected
	// data after end of compressed stream").
	ErrTrailingData = errors.New("unexpected data after the end of the compressed stream")
	// ErrTooLarge: the uncompressed content exceeds the limit.
	ErrTooLarge = errors.New("uncompressed content too large")
)

// Gunzip returns the content of the single gzip member in stored, at most
// limit bytes.
func Gunzip(stored []byte, limit int64) ([]byte, error) {
	var out bytes.Buffer
	if err := inflate(bytes.NewReader(stored), &out, limit); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// HashGzip returns the hex SHA-256 of the uncompressed content of the single
// gzip member read from r: a log file's hashValue.
func HashGzip(r io.Reader) (string, error) {
	h := sha256.New()
	if err := inflate(r, h, -1); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// inflate copies the first gzip member of r to w (at most limit bytes; < 0
// for no limit) and fails if anything follows it.
func inflate(r io.Reader, w io.Writer, limit int64) error {
	br := bufio.NewReader(r)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotGzip, err)
	}
	zr.Multistream(false)
	src := io.Reader(zr)
	if limit >= 0 {
		src = io.LimitReader(zr, limit+1)
	}
	n, err := io.Copy(w, src)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotGzip, err)
	}
	if limit >= 0 && n > limit {
		return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	if err := zr.Close(); err != nil {
		return fmt.Errorf("%w: %w", ErrNotGzip, err)
	}
	// gzip reads its input byte by byte through a bufio.Reader, so what is
	// left in br is exactly what follows the first member.
	if _, err := br.Peek(1); err == nil {
		return ErrTrailingData
	} else if !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %w", ErrNotGzip, err)
	}
	return nil
}
