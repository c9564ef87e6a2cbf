// Recording and alerting rules through the Prometheus HTTP API, in its shapes (Grafana's
// alerting views and Prometheus's UI read them):
//   GET /api/v1/rules    read  {"groups": [...]} with each rule's health, last evaluation and,
//                              for alerting rules, its active alerts
//   GET /api/v1/alerts   read  {"alerts": [...]}: every pending or firing alert
// /api/v1/rules takes Prometheus's filters: type=alert|record, rule_name[], rule_group[],
// file[], match[] (rules whose labels match any of the selectors), exclude_alerts=true|false,
// and group_limit=N with group_next_token=TOKEN to page through groups. Groups left without
// rules by a filter are left out. Bad values are 400 bad_data naming the parameter.
// Both answer for the request's tenant: its groups (RuleGroup::tenant) and their alerts only.
#pragma once

#include "api/rules_source.h"
#include "auth/auth.h"
#include "http/router.h"

namespace tyto::api {

// `rules` must outlive the router.
void AddRulesRoutes(http::Router* router, auth::Guard* guard, const RulesSource* rules);

}  // namespace tyto::api
