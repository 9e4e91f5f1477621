"""Deterministic demo data for a Japanese B2B SaaS company, in the canonical export format.

The generator simulates a sales organisation that sells an annual SaaS contract (年間契約):

- an inside-sales team of SDRs (インサイドセールス課) and two outsourced sales agencies
  (営業代行) work the leads, set appointments (アポイント) and convert them to opportunities;
- two field-sales teams of AEs (フィールドセールス1課: enterprise, 2課: SMB) run the deals
  through the stages approach → discovery → proposal → negotiation → closed_won/closed_lost;
- a customer-success team looks after the customers, whose subscriptions renew, expand,
  contract and churn month by month.

Time runs on the Japanese business calendar (weekends, national holidays via `holidays`, and
the usual company closures at New Year and お盆). The company's fiscal year starts in the month
of dbt var `fiscal_year_start_month` (dbt_project.yml, April by default; the `generate()`
argument or `--fiscal-year-start-month` overrides it): deals are pushed to close before the
fiscal year-end and half-year end (March and September for April), and budgets cover whole fiscal
years. What follows the market's calendar rather than the company's stays put: new graduates join
on April 1, ads cost more in March and December, leads follow the Japanese buying season.

Everything is drawn from `numpy.random.default_rng` streams derived from the seed, so the same
arguments always give byte-identical files.

Timestamps are Asia/Tokyo local time. Internally, times inside working hours are handled as
*business seconds* (`bt`): business day number × 36,000 + seconds since 9:00, which keeps ordered
schedules ordered when they are mapped back onto the calendar.

Activities dominate the volume (about 200,000 at scale 1, 10 million at scale 50); they are
generated with numpy in chunks and streamed to the CSV file. Above scale 1 the organisation
grows in whole teams (scale 50: 50 inside-sales teams, 100 field-sales teams, ...).

Things worth knowing about the data:

- Deals that were already open when the data starts (created up to 120 days before it) are
  included without a lead, so the pipeline is not empty in the first months; their activities
  start at the start date.
- Customers under contract before the data starts have subscriptions without opportunity.
  Subscription items agreed before the end date may start (or end) after it, e.g. a deal won
  in the last month starts on the first day of the following month.
- Open deals carry their expected close date, which lies after the end date.
- Spend covers every channel of seeds/lead_source_channels.csv every month, including
  field_sales (the AEs' own prospecting, for deals without a lead).

The package, by concern (each module draws from its own random stream, see `common`):

- `common`: time units, random streams, numeric helpers;
- `calendar`: the data range and the Japanese business calendar;
- `org`: agencies, teams and users (the selling organisation);
- `companies`: prospect and customer companies and their reference data;
- `leads`: lead creation, sources, owners, touches and outcome;
- `deals`: opportunities, their stage paths and amounts, the 期末 push;
- `subscriptions`: the month-by-month customer lifecycle;
- `model`: builds all of the above into one `Model` (accounts and contacts included);
- `tables`, `activities`, `spend`, `targets`: the entity files, as Arrow columns;
- `writer`: column builders and the canonical CSV writer;
- `generate`: `generate()`, the entry point the pipeline and the tests call;
- `cli`: the command line.

Usage::

    python -m orchestration.demo --landing data/landing --scale 0.05

(`python -m orchestration.demo.generate ...` still works.)
"""
