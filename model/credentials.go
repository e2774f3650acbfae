package model

import (
	"crypto/sha256"
	"encoding/hex"
)

// HashAPIKey returns the lowercase hex SHA-256 of an API key: the only form in
// which a key is stored or exported (User.APIKeyHash, a bundle's apiKeyHash).
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// validKeyHash reports whether s is 64 lowercase hex digits.
func validKeyHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// decodeCredential reads a bundle user's apiKey (hashed at once, never kept) or
// apiKeyHash into u.APIKeyHash. Neither is fine: the user then cannot
// authenticate with a key.
func decodeCredential(uo *object, u *User, p Path) ErrorList {
	key, hasKey := uo.raw("apiKey")
	hash, hasHash := uo.raw("apiKeyHash")
	var l ErrorList
	switch {
	case hasKey && hasHash:
		l = append(l, Forbidden(p.Child("apiKeyHash"), "give apiKey or apiKeyHash, not both"))
	case hasKey:
		s, ok := key.(string)
		switch {
		case !ok:
			l = append(l, WrongType(p.Child("apiKey"), "a string", key))
		case s == "":
			l = append(l, Required(p.Child("apiKey"), "must not be empty (leave it out: the user then cannot authenticate with a key)"))
		default:
			u.APIKeyHash = HashAPIKey(s)
		}
	case hasHash:
		s, ok := hash.(string)
		if !ok {
			l = append(l, WrongType(p.Child("apiKeyHash"), "a string", hash))
		} else {
			u.APIKeyHash = s // ValidateUser checks its form
		}
	}
	return l
}

// DecodeAuthenticate decodes the body of POST /bim/apikey/authenticate:
// {"apikey": K}, K a non-empty string. Errors never quote the key.
func DecodeAuthenticate(data []byte, lim Limits) (string, error) {
	return decodeBody(data, lim, func(o *object) string {
		v, ok := o.get("apikey")
		s, isStr := v.(string)
		switch {
		case !ok:
			o.w.add(Required(o.at("apikey"), ""))
		case !isStr:
			o.w.add(Invalid(o.at("apikey"), nil, "must be a string"))
		case s == "":
			o.w.add(Required(o.at("apikey"), "must not be empty"))
		}
		return s
	})
}
