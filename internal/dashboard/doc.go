// Package dashboard keeps dashboards and saved searches, and evaluates a
// panel's query into chart series. Every point, bar and row it returns
// carries the Explore query that selects the records behind it (the
// panel's filter and the series' filter), so charts are links to their
// logs. The built-in home dashboard holds the out-of-the-box KPIs.
package dashboard
