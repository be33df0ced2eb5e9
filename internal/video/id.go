package video

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/falproxy/falproxy/internal/textcut"
)

// A video id is "video_" and the base64url (no padding) of a version byte,
// the Ref as compact JSON, and the first tagSize bytes of HMAC-SHA256 of
// both under a signing key. It carries all that is needed to find the job
// at fal again, on any replica and after a restart, and cannot be forged
// or altered without the signing key.

const (
	idPrefix  = "video_"
	idVersion = 1
	tagSize   = 16
	// maxIDPrompt bounds the prompt an id carries, so that ids stay short.
	maxIDPrompt = 512
	// maxIDLength bounds what Open decodes.
	maxIDLength = 4096
)

// errUnknownID means an id is malformed, altered, of an unknown version,
// or signed with a key this process does not hold.
var errUnknownID = errors.New("unknown video id")

// Ref is what a video id carries.
type Ref struct {
	Endpoint  string `json:"e"`
	RequestID string `json:"r"`
	KeyTag    []byte `json:"k"` // tag of the fal key that submitted the job
	// AccessTag is AccessTag(signing key, caller's access key); empty when
	// falproxy runs without access keys.
	AccessTag   []byte `json:"a,omitempty"`
	Model       string `json:"m"`
	Seconds     string `json:"s,omitempty"` // as generated
	Size        string `json:"z,omitempty"` // as requested
	CreatedAt   int64  `json:"c"`
	RemixedFrom string `json:"x,omitempty"`
	Prompt      string `json:"p"` // cut to maxIDPrompt bytes
}

// AccessTag binds an id to the access key that created it.
func AccessTag(signingKey []byte, accessKey string) []byte {
	if accessKey == "" {
		return nil
	}
	return mac(signingKey, []byte(accessKey))[:tagSize]
}

// Seal makes the id of ref, signed with key.
func Seal(ref Ref, key []byte) string {
	ref.Prompt = textcut.Bytes(ref.Prompt, maxIDPrompt)
	body, _ := json.Marshal(ref) // a Ref always encodes
	msg := append([]byte{idVersion}, body...)
	msg = append(msg, mac(key, msg)[:tagSize]...)
	return idPrefix + base64.RawURLEncoding.EncodeToString(msg)
}

// Open reads an id and checks its signature against the keys that
// keysFor gives for what it claims (the keys depend on the fal key that
// submitted the job when no signing key is configured); it returns the
// Ref and the key that verified it, or errUnknownID.
func Open(id string, keysFor func(claimed *Ref) [][]byte) (*Ref, []byte, error) {
	raw, ok := strings.CutPrefix(id, idPrefix)
	if !ok || len(id) > maxIDLength {
		return nil, nil, errUnknownID
	}
	msg, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(msg) < 1+tagSize+2 || msg[0] != idVersion {
		return nil, nil, errUnknownID
	}
	signed, tag := msg[:len(msg)-tagSize], msg[len(msg)-tagSize:]
	var ref Ref
	if json.Unmarshal(signed[1:], &ref) != nil {
		return nil, nil, errUnknownID
	}
	for _, key := range keysFor(&ref) {
		if hmac.Equal(mac(key, signed)[:tagSize], tag) {
			return &ref, key, nil
		}
	}
	return nil, nil, errUnknownID
}

// Owns reports, in constant time, whether accessKey made the video whose
// id key verified.
func (r *Ref) Owns(key []byte, accessKey string) bool {
	return subtle.ConstantTimeCompare(AccessTag(key, accessKey), r.AccessTag) == 1
}

func mac(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}
