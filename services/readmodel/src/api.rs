//! `DashboardService`: the figures for a period, town and department, computed from the read
//! model's rows with the domain's rules (`liandong_domain::figures`), and a stream of versions
//! that tells a watcher when to read them again.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use futures::Stream;
use liandong_config::clock::SharedClock;
use liandong_domain::calendar::Calendar;
use liandong_domain::callback::Satisfaction;
use liandong_domain::disclosure::BodyKind;
use liandong_domain::figures::{
    self, AcceptAnswer, Contender, Rate, Spread, Step, WorkKind, dashboard_scope, nearest_rank,
};
use liandong_domain::ids::{DepartmentCode, TownCode};
use liandong_domain::limits::Validator;
use liandong_domain::outcome::OutcomeKind;
use liandong_domain::time_limits::TimeLimits;
use liandong_domain::towns::Towns;
use liandong_grpc::{ApiError, actor};
use liandong_proto::readmodel::v1::{self as pb, dashboard_service_server::DashboardService};
use liandong_proto::time::to_ts;
use liandong_runtime::Runtime;
use liandong_store::Db;
use liandong_store::with_db;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::store::{self, DisclosureRow};

/// How often a watcher's stream looks at the version; every replica's events count.
const WATCH_POLL: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct Api {
    db: Db,
    clock: SharedClock,
    calendar: Arc<Calendar>,
    time_limits: Arc<TimeLimits>,
    towns: Arc<Towns>,
    min_cases: u32,
    stop: CancellationToken,
}

/// The parsed filters.
struct Filters {
    town: Option<TownCode>,
    department: Option<DepartmentCode>,
    /// Inclusive start and exclusive end, as instants.
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

impl Filters {
    fn town(&self, town: &str) -> bool {
        self.town.as_ref().is_none_or(|t| t.as_str() == town)
    }
    fn department(&self, department: &str) -> bool {
        self.department
            .as_ref()
            .is_none_or(|d| d.as_str() == department)
    }
    fn period(&self, at: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| at >= f) && self.to.is_none_or(|t| at < t)
    }
}

/// The China date `s` (YYYY-MM-DD), named `field` when it is not one.
fn date(v: &mut Validator, field: &str, s: &str) -> Option<NaiveDate> {
    if s.is_empty() {
        return None;
    }
    v.check(
        field,
        NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| "must be a date YYYY-MM-DD"),
    )
}

fn secs(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_seconds()
}

/// One department's running figures on one path, for the ranking.
#[derive(Default)]
struct PathFigures {
    cases: u32,
    on_time: Rate,
    /// Seconds from dispatch to conclusion.
    conclude: Vec<i64>,
    returned: u32,
}

/// One department's running figures.
#[derive(Default)]
struct Dept {
    referrals: u32,
    tasks: u32,
    times: BTreeMap<&'static str, Vec<i64>>,
    /// The same times in working days.
    working_days: BTreeMap<&'static str, Vec<i64>>,
    rates: BTreeMap<&'static str, Rate>,
    all: Rate,
    open: u32,
    overdue: u32,
    returned: u32,
    returns_upheld: u32,
    returns_sent_back: u32,
    escalations: u32,
    extensions: u32,
}

impl Api {
    pub fn new(rt: &Runtime) -> Self {
        let d = &rt.cfg.dashboard;
        Self {
            db: rt.db.clone(),
            clock: rt.clock.clone(),
            calendar: rt.calendar.clone(),
            time_limits: rt.time_limits.clone(),
            towns: rt.towns.clone(),
            min_cases: d.ranking_min_cases,
            stop: rt.stop.clone(),
        }
    }

    fn filters(&self, r: &pb::GetDashboardRequest) -> Result<Filters, ApiError> {
        let mut v = Validator::new();
        let town = (!r.town.is_empty())
            .then(|| v.check("town", self.towns.parse_known(&r.town)))
            .flatten();
        let department = (!r.department.is_empty())
            .then(|| v.check("department", DepartmentCode::parse(&r.department)))
            .flatten();
        let from = date(&mut v, "from", &r.from);
        let to = date(&mut v, "to", &r.to);
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            v.check::<(), _>("to", Err("must not be before from"));
        }
        v.finish().map_err(ApiError::Invalid)?;
        Ok(Filters {
            town,
            department,
            // 00:00 of `from` in China is 24:00 of the day before.
            from: from
                .and_then(|d| d.pred_opt())
                .map(Calendar::end_of_local_day),
            to: to.map(Calendar::end_of_local_day),
        })
    }

    async fn version(&self) -> Result<u64, sqlx::Error> {
        let v: i64 = with_db!(&self.db, |p| sqlx::query_scalar(
            "SELECT version FROM rm_version WHERE id = 1"
        )
        .fetch_one(p)
        .await)?;
        Ok(v as u64)
    }

    async fn dashboard(&self, f: Filters) -> Result<pb::GetDashboardResponse, ApiError> {
        let now = self.clock.now();
        let version = self.version().await?;
        let store::Rows {
            items,
            cases,
            decisions,
            reviews,
            escalations,
            extensions,
            disclosures,
            callbacks,
        } = store::rows(&self.db).await?;
        // Each case's matters, for the policy's limits of the case's matter classes.
        let matters: BTreeMap<&str, &[String]> = cases
            .iter()
            .map(|c| (c.case_id.as_str(), c.matters.as_slice()))
            .collect();
        let mut depts: BTreeMap<String, Dept> = BTreeMap::new();
        // Per path and department, for the ranking.
        let mut paths: BTreeMap<(String, String), PathFigures> = BTreeMap::new();
        let mut open = Vec::new();
        let mut total = Rate::default();
        for it in &items {
            // An item whose dispatch has not arrived yet has no clock to measure.
            let Some(dispatched) = it.dispatched_at else {
                continue;
            };
            if !(f.town(&it.town) && f.department(&it.department) && f.period(dispatched)) {
                continue;
            }
            let d = depts.entry(it.department.clone()).or_default();
            let ranked = paths
                .entry((it.path.as_str().to_owned(), it.department.clone()))
                .or_default();
            ranked.cases += 1;
            let department = DepartmentCode::parse(&it.department).ok();
            let limits = self.time_limits.for_case(
                department.as_ref(),
                matters.get(it.case_id.as_str()).copied().unwrap_or(&[]),
            );
            let referral = it.kind == WorkKind::Referral;
            if referral {
                d.referrals += 1;
            } else {
                d.tasks += 1;
            }
            if it.returned_at.is_some() {
                d.returned += 1;
                ranked.returned += 1;
                if it.return_upheld_at.is_some() {
                    d.returns_upheld += 1;
                }
                if it.sent_back_at.is_some() {
                    d.returns_sent_back += 1;
                }
            }
            // A task has no sign-for or acceptance: the lead or cooperating department was
            // named by the joint meeting.
            let steps: &[Step] = if referral {
                &Step::ALL
            } else {
                &[Step::Conclude]
            };
            let finished =
                it.concluded_at.is_some() || it.returned_at.is_some() || it.withdrawn_at.is_some();
            let mut waiting = None;
            for &step in steps {
                let done = match step {
                    Step::SignFor => it.signed_for_at,
                    // Only an acceptance answers on time. A return is never such an answer: it
                    // counts as a missed acceptance unless the chair upheld it, which excuses it.
                    Step::Accept => match figures::accept_answer(
                        it.accepted_at,
                        it.returned_at,
                        it.return_upheld_at.is_some(),
                    ) {
                        AcceptAnswer::Accepted(a) => Some(a),
                        AcceptAnswer::ReturnUpheld => continue,
                        AcceptAnswer::ReturnNotUpheld => {
                            d.rates.entry(step.as_str()).or_default().add(false);
                            d.all.add(false);
                            ranked.on_time.add(false);
                            total.add(false);
                            continue;
                        }
                        AcceptAnswer::Open => None,
                    },
                    Step::Conclude => it.concluded_at,
                };
                let mut deadline = self.time_limits.deadline(
                    &self.calendar,
                    step.obligation(),
                    &limits,
                    dispatched,
                );
                // A granted extension (延期) moves the deadline: the referral's own steps by
                // referral, the department's conclusion by case and department.
                let obligation = step.obligation();
                let extended = extensions
                    .iter()
                    .filter(|x| *x.kind == Some(obligation))
                    .filter(|x| match step {
                        Step::Conclude => x.case_id == it.case_id && x.department == it.department,
                        _ => x.referral_id.as_deref() == Some(it.item_id.as_str()),
                    })
                    .filter_map(|x| x.new_deadline)
                    .max();
                if let Some(due) = extended
                    && due > deadline.due
                {
                    if step == Step::Conclude || referral {
                        deadline = liandong_domain::calendar::Deadline {
                            due,
                            last_day: Calendar::local_date(due - chrono::Duration::seconds(1)),
                            provisional: deadline.provisional,
                        };
                    }
                    d.extensions += 1;
                }
                match done {
                    Some(done) => {
                        let took = secs(dispatched, done);
                        d.times.entry(step.as_str()).or_default().push(took);
                        d.working_days
                            .entry(step.as_str())
                            .or_default()
                            .push(self.calendar.working_days_between(dispatched, done));
                        if step == Step::Conclude {
                            ranked.conclude.push(took);
                        }
                        let hit = figures::on_time(done, &deadline);
                        d.rates.entry(step.as_str()).or_default().add(hit);
                        d.all.add(hit);
                        ranked.on_time.add(hit);
                        total.add(hit);
                    }
                    // A returned or withdrawn item owes nothing more.
                    None if finished => {}
                    None => {
                        if waiting.is_none() {
                            waiting = Some((step, deadline));
                        }
                        if figures::overdue(now, &deadline) {
                            d.rates.entry(step.as_str()).or_default().add(false);
                            d.all.add(false);
                            ranked.on_time.add(false);
                            total.add(false);
                        }
                    }
                }
            }
            if let Some((step, deadline)) = waiting {
                let late = figures::overdue(now, &deadline);
                d.open += 1;
                if late {
                    d.overdue += 1;
                }
                open.push(pb::OpenItem {
                    id: it.item_id.clone(),
                    case_id: it.case_id.clone(),
                    town: it.town.clone(),
                    department: it.department.clone(),
                    kind: it.kind.as_str().into(),
                    waiting_for: step.as_str().into(),
                    dispatched_at: Some(to_ts(dispatched)),
                    age_secs: secs(dispatched, now),
                    due_at: Some(to_ts(deadline.due)),
                    overdue: late,
                });
            }
        }
        let mut escalated = 0;
        for e in &escalations {
            if !(f.town(&e.town) && f.department(&e.department) && f.period(e.raised_at)) {
                continue;
            }
            escalated += 1;
            if !e.department.is_empty() {
                depts.entry(e.department.clone()).or_default().escalations += 1;
            }
        }
        let mut satisfaction = pb::Satisfaction::default();
        for c in &callbacks {
            // A call-back belongs to the town's case, not to a department.
            if f.department.is_some() || !(f.town(&c.town) && f.period(c.called_at)) {
                continue;
            }
            match c.satisfaction {
                Satisfaction::Satisfied => satisfaction.satisfied += 1,
                Satisfaction::BasicallySatisfied => satisfaction.basically_satisfied += 1,
                Satisfaction::Unsatisfied => satisfaction.unsatisfied += 1,
            }
            if c.reopened {
                satisfaction.reopened += 1;
            }
        }
        open.sort_by(|a, b| b.age_secs.cmp(&a.age_secs).then(a.id.cmp(&b.id)));

        let departments = depts
            .into_iter()
            .map(|(department, d)| {
                let limits = self
                    .time_limits
                    .for_case(DepartmentCode::parse(&department).ok().as_ref(), &[]);
                pb::DepartmentFigures {
                    department,
                    referrals: d.referrals,
                    tasks: d.tasks,
                    steps: Step::ALL
                        .iter()
                        .map(|s| {
                            let times = d.times.get(s.as_str()).map(Vec::as_slice).unwrap_or(&[]);
                            let spread = Spread::of(times);
                            let days = d
                                .working_days
                                .get(s.as_str())
                                .map(Vec::as_slice)
                                .unwrap_or(&[]);
                            let rate = d.rates.get(s.as_str()).copied().unwrap_or_default();
                            pb::StepTimes {
                                step: s.as_str().into(),
                                count: spread.count,
                                median_secs: spread.median_secs,
                                p90_secs: spread.p90_secs,
                                target_days: limits.of(s.obligation()),
                                on_time: rate.hits,
                                timed: rate.total,
                                median_working_days: nearest_rank(days, 50),
                                p90_working_days: nearest_rank(days, 90),
                            }
                        })
                        .collect(),
                    on_time: d.all.hits,
                    timed: d.all.total,
                    open: d.open,
                    overdue: d.overdue,
                    returned: d.returned,
                    returns_upheld: d.returns_upheld,
                    returns_sent_back: d.returns_sent_back,
                    escalations: d.escalations,
                    extensions: d.extensions,
                }
            })
            .collect();

        let mut by_path: BTreeMap<String, Vec<Contender>> = BTreeMap::new();
        for ((path, department), p) in paths {
            by_path.entry(path).or_default().push(Contender {
                department,
                cases: p.cases,
                on_time: p.on_time,
                median_conclude_secs: nearest_rank(&p.conclude, 50),
                returned: p.returned,
            });
        }
        let rankings = by_path
            .into_iter()
            .map(|(path, contenders)| {
                let r = figures::rank(contenders, self.min_cases);
                pb::PathRanking {
                    path,
                    min_cases: self.min_cases,
                    ranked: r
                        .ranked
                        .into_iter()
                        .enumerate()
                        .map(|(i, c)| pb::Ranked {
                            position: i as u32 + 1,
                            on_time_permille: c.on_time.permille().unwrap_or(0),
                            return_permille: c.return_rate().permille().unwrap_or(0),
                            returned: c.returned,
                            department: c.department,
                            cases: c.cases,
                            median_conclude_secs: c.median_conclude_secs,
                        })
                        .collect(),
                    too_few: r.too_few,
                    no_data: r.no_data,
                }
            })
            .collect();

        let mut by_path = BTreeMap::<String, i64>::new();
        let mut by_matter = BTreeMap::<String, i64>::new();
        let mut by_month = BTreeMap::<String, i64>::new();
        for c in &cases {
            if !(f.town(&c.town) && f.department(&c.department) && f.period(c.seen_at)) {
                continue;
            }
            *by_path.entry(c.path.as_str().to_owned()).or_default() += 1;
            for m in c.matters.iter() {
                *by_matter.entry(m.clone()).or_default() += 1;
            }
            let month = Calendar::local_date(c.seen_at).format("%Y-%m").to_string();
            *by_month.entry(month).or_default() += 1;
        }

        let mut outcomes = pb::Outcomes::default();
        let mut kinds = BTreeMap::<String, i64>::new();
        let mut confiscated = BTreeMap::<(String, String), i64>::new();
        for d in &decisions {
            if !(f.town(&d.town) && f.department(&d.department) && f.period(d.decided_at)) {
                continue;
            }
            outcomes.decisions += 1;
            match d.kind {
                OutcomeKind::Education => outcomes.education_only += 1,
                k if k.is_penalty() => outcomes.penalties += 1,
                _ => outcomes.other += 1,
            }
            *kinds.entry(d.kind.as_str().to_owned()).or_default() += 1;
            outcomes.fines_fen += d.fine_fen;
            outcomes.confiscated_value_fen += d.confiscated_value_fen;
            for item in d.confiscated.iter() {
                let (kind, count, unit) = item.parts();
                *confiscated
                    .entry((kind.to_owned(), unit.to_owned()))
                    .or_default() += count;
            }
        }
        outcomes.by_kind = counts(kinds);
        outcomes.confiscated = confiscated
            .into_iter()
            .map(|((key, unit), count)| pb::Count { key, count, unit })
            .collect();

        let mut turnaround = Vec::new();
        let mut review = pb::ReviewTurnaround::default();
        for r in &reviews {
            let Some(asked) = r.requested_at else {
                continue;
            };
            if !(f.town(&r.town) && f.department(&r.department) && f.period(asked)) {
                continue;
            }
            match r.answered_at {
                Some(answered) => {
                    review.answered += 1;
                    turnaround.push(secs(asked, answered));
                }
                None => review.pending += 1,
            }
        }
        let spread = Spread::of(&turnaround);
        review.median_secs = spread.median_secs;
        review.p90_secs = spread.p90_secs;

        let disclosure = disclosure_timeliness(&f, &disclosures, now);

        Ok(pb::GetDashboardResponse {
            as_of: Some(to_ts(now)),
            town: f.town.map(|t| t.to_string()).unwrap_or_default(),
            department: f.department.map(|d| d.to_string()).unwrap_or_default(),
            from: String::new(),
            to: String::new(),
            departments,
            on_time: total.hits,
            timed: total.total,
            open,
            rankings,
            cases_by_path: counts(by_path),
            cases_by_matter: counts(by_matter),
            cases_by_month: counts(by_month),
            outcomes: Some(outcomes),
            review: Some(review),
            version,
            escalations: escalated,
            satisfaction: Some(satisfaction),
            disclosure: Some(disclosure),
        })
    }
}

/// The period's decisions' disclosures against their due dates (`disclosure::timeliness`), in
/// all and per deciding body. A department filter keeps that department's own disclosures.
fn disclosure_timeliness(
    f: &Filters,
    rows: &[DisclosureRow],
    now: DateTime<Utc>,
) -> pb::DisclosureTimeliness {
    use liandong_domain::disclosure::{Timeliness, timeliness};
    let mut all = pb::DisclosureTimeliness::default();
    let mut bodies: BTreeMap<String, pb::BodyDisclosure> = BTreeMap::new();
    for r in rows {
        let department = if r.body_kind == BodyKind::Department {
            r.body_code.as_str()
        } else {
            ""
        };
        if !(f.town(&r.town) && f.department(department) && f.period(r.decided_at)) {
            continue;
        }
        if let (Some(withdrawn), Some(due)) = (r.withdrawn_at, r.withdrawal_due_at) {
            all.withdrawn += 1;
            if withdrawn < due {
                all.withdrawn_on_time += 1;
            }
        }
        let Some(t) = timeliness(r.status, r.due_at, r.published_at, r.withdrawn_at, now) else {
            continue;
        };
        let key = format!("{}:{}", r.body_kind.as_str(), r.body_code);
        let body = bodies
            .entry(key.clone())
            .or_insert_with(|| pb::BodyDisclosure {
                body: key,
                ..Default::default()
            });
        all.due += 1;
        body.due += 1;
        let (a, b) = match t {
            Timeliness::PublishedOnTime => {
                (&mut all.published_on_time, &mut body.published_on_time)
            }
            Timeliness::PublishedLate => (&mut all.published_late, &mut body.published_late),
            Timeliness::Overdue => (&mut all.overdue, &mut body.overdue),
            Timeliness::Pending => (&mut all.pending, &mut body.pending),
        };
        *a += 1;
        *b += 1;
    }
    all.bodies = bodies.into_values().collect();
    all
}

fn counts(m: BTreeMap<String, i64>) -> Vec<pb::Count> {
    m.into_iter()
        .map(|(key, count)| pb::Count {
            key,
            count,
            unit: String::new(),
        })
        .collect()
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::WatchDashboardResponse, Status>> + Send>>;

#[tonic::async_trait]
impl DashboardService for Api {
    async fn get_dashboard(
        &self,
        req: Request<pb::GetDashboardRequest>,
    ) -> Result<Response<pb::GetDashboardResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let mut f = self.filters(&r)?;
        f.town = dashboard_scope(&actor, f.town.as_ref()).map_err(ApiError::from)?;
        let mut answer = self.dashboard(f).await?;
        answer.from = r.from;
        answer.to = r.to;
        Ok(Response::new(answer))
    }

    type WatchDashboardStream = WatchStream;

    async fn watch_dashboard(
        &self,
        req: Request<pb::WatchDashboardRequest>,
    ) -> Result<Response<Self::WatchDashboardStream>, Status> {
        let actor = actor(&req)?;
        dashboard_scope(&actor, None).map_err(ApiError::from)?;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let api = self.clone();
        tokio::spawn(async move {
            let mut last = None;
            loop {
                match api.version().await {
                    Ok(v) if last != Some(v) => {
                        last = Some(v);
                        if tx
                            .send(Ok(pb::WatchDashboardResponse { version: v }))
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "Cannot read the figures' version."),
                }
                tokio::select! {
                    _ = api.stop.cancelled() => return,
                    _ = tx.closed() => return,
                    _ = tokio::time::sleep(WATCH_POLL) => {}
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}
