//! The county's row types that the clocks share with the stores: a referral as stored.

use chrono::{DateTime, Utc};
use liandong_domain::state::ReferralStatus;
use liandong_proto::events::v1 as ev;
use liandong_store::typed::{Json, Nullable, Proto};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReferralRow {
    pub referral_id: String,
    pub town: String,
    pub case_id: String,
    pub department: String,
    #[sqlx(try_from = "String")]
    pub status: ReferralStatus,
    pub dispatch_no: i64,
    /// The case as the brigade referred it.
    #[sqlx(try_from = "Vec<u8>")]
    pub facts: Proto<ev::CaseFacts>,
    pub dispatched_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub signed_for_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub concluded_at: Option<DateTime<Utc>>,
    /// The staff assigned to investigate.
    #[sqlx(try_from = "String")]
    pub staff: Json<Vec<String>>,
    pub return_reason: Option<String>,
    /// The department's decision, once concluded.
    #[sqlx(try_from = "Option<Vec<u8>>")]
    pub outcome: Nullable<Proto<ev::Outcome>>,
    pub updated_at: DateTime<Utc>,
    /// Why the brigade sent it (the dispatch's reason).
    pub reason: String,
}
