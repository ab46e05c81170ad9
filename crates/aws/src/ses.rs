//! Reminders by mail: the application's [`Mailer`] port over Amazon SES (API v2, `SendEmail`).
//!
//! The sender must be an identity verified in SES. An error names neither address: it carries
//! SES's error code and HTTP status only, since SES's messages repeat the addresses.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use myrunstreak_app::remind::{DeliveryError, Mail, Mailer};

/// Sends reminders from one verified sender through SES.
#[derive(Clone, Debug)]
pub struct SesMailer {
    client: Client,
    from: String,
}

impl SesMailer {
    /// Sends from `from` (an address or identity verified in SES) with `client`.
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        SesMailer {
            client,
            from: from.into(),
        }
    }
}

/// SES's answer as a delivery error, without its message (which names the addresses).
fn delivery_error<E: ProvideErrorMetadata, R>(
    e: SdkError<E, R>,
    status: Option<u16>,
) -> DeliveryError {
    match &e {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("an unnamed error");
            match status {
                Some(status) if code == "TooManyRequestsException" || status >= 500 => {
                    DeliveryError::Status(status)
                }
                _ => DeliveryError::Unsupported(format!(
                    "Amazon SES refused the mail ({code}); check that MYRUNSTREAK_MAIL_FROM is verified in SES and that the account may send to the address"
                )),
            }
        }
        SdkError::TimeoutError(_) => DeliveryError::Transport("SES did not answer in time".into()),
        SdkError::DispatchFailure(_) => DeliveryError::Transport("SES could not be reached".into()),
        _ => DeliveryError::Transport("SES's answer could not be read".into()),
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail<'_>) -> Result<(), DeliveryError> {
        let text = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| DeliveryError::Unsupported(format!("building the mail: {e}")))
        };
        let message = Message::builder()
            .subject(text(mail.subject)?)
            .body(Body::builder().text(text(mail.text)?).build())
            .build();
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(mail.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                let status = e.raw_response().map(|r| r.status().as_u16());
                delivery_error(e, status)
            })
    }
}
