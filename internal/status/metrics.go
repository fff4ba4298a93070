package status

import (
	"github.com/prometheus/client_golang/prometheus"
)

// clusterCollector exports per-cluster series computed from the report at scrape time, so they
// cost nothing between scrapes. They are opt-in: at thousands of clusters they multiply the
// series a Prometheus must keep.
type clusterCollector struct {
	src                                           Source
	connected, ready, active, reconnects, refused *prometheus.Desc
}

// NewClusterCollector returns the per-cluster metrics of src.
func NewClusterCollector(src Source) prometheus.Collector {
	return &clusterCollector{
		src: src,
		connected: prometheus.NewDesc("scale_cluster_tunnel_connected", "Whether the cluster's tunnel is connected.",
			[]string{"cluster", "tunnel"}, nil),
		ready: prometheus.NewDesc("scale_cluster_ready", "Whether the Rancher side reports the cluster ready.",
			[]string{"cluster"}, nil),
		active: prometheus.NewDesc("scale_cluster_rancher_active", "Whether Rancher reports the cluster active.",
			[]string{"cluster"}, nil),
		reconnects: prometheus.NewDesc("scale_cluster_reconnects_total", "Tunnel sessions the cluster established after its first ones.",
			[]string{"cluster"}, nil),
		refused: prometheus.NewDesc("scale_cluster_refused_dials_total", "Dials through the cluster's tunnels that were refused.",
			[]string{"cluster"}, nil),
	}
}

func (c *clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.connected
	ch <- c.ready
	ch <- c.active
	ch <- c.reconnects
	ch <- c.refused
}

func (c *clusterCollector) Collect(ch chan<- prometheus.Metric) {
	for _, cl := range c.src().Clusters {
		ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, boolValue(cl.Main.State == "connected"), cl.Name, "main")
		ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, boolValue(cl.Steve.State == "connected"), cl.Name, "steve")
		ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, boolValue(cl.Endpoint != nil && cl.Endpoint.Ready), cl.Name)
		ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, boolValue(cl.Endpoint != nil && cl.Endpoint.Active), cl.Name)
		ch <- prometheus.MustNewConstMetric(c.reconnects, prometheus.CounterValue, float64(cl.Reconnects), cl.Name)
		ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(cl.RefusedDials), cl.Name)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
