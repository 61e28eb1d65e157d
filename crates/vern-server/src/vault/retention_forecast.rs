//! The 24-month forecast of a retention preview: for each calendar month after the preview
//! date, how many records expire, by rule. One index range count per month.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use vern_core::ids::to_micros;
use vern_policy::duration::add_months;
use vern_store::RetentionStore;

use super::{ForecastMonth, RuleCount, Vault, VaultError, VaultResult};

/// Months the forecast covers.
pub const FORECAST_MONTHS: u32 = 24;

fn month_after(at: OffsetDateTime, months: u32) -> Option<OffsetDateTime> {
    Some(
        add_months(at.date(), months)?
            .with_time(at.time())
            .assume_utc(),
    )
}

pub(super) async fn forecast(
    vault: &Vault,
    as_of: OffsetDateTime,
) -> VaultResult<Vec<ForecastMonth>> {
    let as_of = as_of.to_offset(time::UtcOffset::UTC);
    let mut months = Vec::with_capacity(FORECAST_MONTHS as usize);
    for i in 0..FORECAST_MONTHS {
        let (Some(from), Some(to)) = (month_after(as_of, i), month_after(as_of, i + 1)) else {
            break;
        };
        let counts = vault
            .store()
            .expiring_counts(vault.tenant(), to_micros(from), to_micros(to))
            .await
            .map_err(VaultError::store("record"))?;
        let mut by_rule: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (rule, category, n) in counts {
            *by_rule
                .entry((rule.unwrap_or_default(), category))
                .or_default() += n;
        }
        months.push(ForecastMonth {
            month: format!("{:04}-{:02}", from.year(), u8::from(from.month())),
            from,
            to,
            total: by_rule.values().sum(),
            by_rule: by_rule
                .into_iter()
                .map(|((rule, category), count)| RuleCount {
                    rule,
                    category,
                    count,
                })
                .collect(),
        });
    }
    Ok(months)
}
