//! What an SDK failure means to the controller. The controller decides on
//! [`CloudError`]'s kind: a capacity shortage waits `capacity_retry_ms` each time, every
//! other failure backs off exponentially; so only EC2's capacity code becomes
//! `Capacity`. Throttling is retried twice more by the SDK itself (standard retry mode,
//! same ClientToken), then surfaces as `Other`, whose exponential backoff is what AWS
//! prescribes for `RequestLimitExceeded`.

use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use failover::error::CloudError;

pub const CAPACITY: &str = "InsufficientInstanceCapacity";
pub const INSTANCE_NOT_FOUND: &str = "InvalidInstanceID.NotFound";

/// Throttling codes of EC2 and Route53 (the SDK's own list, plus Route53's
/// `PriorRequestNotComplete`, which asks the caller to wait and try again).
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "PriorRequestNotComplete",
];

/// A failed API call: the service's error code when it answered, and a text for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub code: Option<String>,
    pub text: String,
}

impl ApiFailure {
    /// `call` names the operation (`RunInstances`), so a log line reads on its own.
    pub fn from_sdk<E, R>(call: &str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                Self::service(
                    call,
                    e.code().unwrap_or("Unknown"),
                    e.message().unwrap_or(""),
                )
            }
            // Timeouts, refused connections, credentials that could not be loaded, a
            // reply that would not parse: the chain of causes says which.
            _ => ApiFailure {
                code: None,
                text: format!("{call} failed: {}", DisplayErrorContext(&err)),
            },
        }
    }

    pub fn service(call: &str, code: &str, message: &str) -> Self {
        let throttled = if is_throttling(code) {
            " (throttled)"
        } else {
            ""
        };
        ApiFailure {
            code: Some(code.to_string()),
            text: format!("{call}: {code}{throttled}: {message}"),
        }
    }

    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    pub fn into_cloud_error(self) -> CloudError {
        if self.is(CAPACITY) {
            // The variant's Display already names the code.
            let message = self
                .text
                .split_once(&format!("{CAPACITY}: "))
                .map_or(self.text.as_str(), |(_, m)| m);
            CloudError::Capacity(message.to_string())
        } else {
            CloudError::Other(self.text)
        }
    }
}

pub fn is_throttling(code: &str) -> bool {
    THROTTLING.contains(&code)
}

impl From<ApiFailure> for CloudError {
    fn from(failure: ApiFailure) -> Self {
        failure.into_cloud_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_is_its_own_kind_and_keeps_the_message() {
        let e = ApiFailure::service("RunInstances", CAPACITY, "no t3.micro in eu-west-1a")
            .into_cloud_error();
        assert_eq!(e, CloudError::Capacity("no t3.micro in eu-west-1a".into()));
        assert_eq!(
            e.to_string(),
            "InsufficientInstanceCapacity: no t3.micro in eu-west-1a"
        );
    }

    #[test]
    fn throttling_is_other_and_says_so() {
        let e = ApiFailure::service("RunInstances", "RequestLimitExceeded", "slow down")
            .into_cloud_error();
        assert_eq!(
            e,
            CloudError::Other("RunInstances: RequestLimitExceeded (throttled): slow down".into())
        );
        assert!(is_throttling("PriorRequestNotComplete"));
        assert!(!is_throttling(CAPACITY));
    }

    #[test]
    fn other_codes_are_other() {
        let e = ApiFailure::service("RunInstances", "InvalidAMIID.NotFound", "no such ami")
            .into_cloud_error();
        assert_eq!(
            e,
            CloudError::Other("RunInstances: InvalidAMIID.NotFound: no such ami".into())
        );
    }
}
