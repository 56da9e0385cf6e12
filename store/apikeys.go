package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// HashAPIKey is how keys are stored: only their SHA-256.
func HashAPIKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// CreateAPIKey stores a key's hash.
func (s *Store) CreateAPIKey(ctx context.Context, k *APIKey, key string) error {
	k.Hash = HashAPIKey(key)
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.Now()
	}
	return notFound(s.w.WithContext(ctx).Create(k).Error)
}

// APIKeyByKey finds a key that is not revoked.
func (s *Store) APIKeyByKey(ctx context.Context, key string) (*APIKey, error) {
	var k APIKey
	if err := s.r.WithContext(ctx).Where("hash = ? AND revoked_at IS NULL", HashAPIKey(key)).First(&k).Error; err != nil {
		return nil, notFound(err)
	}
	return &k, nil
}

// TouchAPIKey records a use, at most once a minute per key.
func (s *Store) TouchAPIKey(ctx context.Context, k *APIKey) error {
	now := s.Now()
	if k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) < time.Minute {
		return nil
	}
	return s.w.WithContext(notAGrantChange(ctx)).Model(&APIKey{}).Where("id = ?", k.ID).Update("last_used_at", now).Error
}

// ListAPIKeys lists keys, newest first.
func (s *Store) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	var ks []APIKey
	return ks, s.r.WithContext(ctx).Order("id DESC").Find(&ks).Error
}
