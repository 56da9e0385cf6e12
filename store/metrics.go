package store

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Collectors reports the connection pools' statistics to Prometheus
// (go_sql_* with db_name "writer" and, on SQLite, "reader").
func (s *Store) Collectors() []prometheus.Collector {
	var cs []prometheus.Collector
	if sqlDB, err := s.w.DB(); err == nil {
		cs = append(cs, collectors.NewDBStatsCollector(sqlDB, "writer"))
	}
	if s.r != s.w {
		if sqlDB, err := s.r.DB(); err == nil {
			cs = append(cs, collectors.NewDBStatsCollector(sqlDB, "reader"))
		}
	}
	return cs
}
