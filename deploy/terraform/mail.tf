# Reminders by mail (`mailto:` channels in the notify secret): only when var.mail_from is set.
# The sender is an SES identity that this deployment creates (SES mails the address a link to
# verify it); the sync role may send from that identity and nothing else.

resource "aws_sesv2_email_identity" "reminders" {
  count          = var.mail_from == "" ? 0 : 1
  email_identity = var.mail_from
}

data "aws_iam_policy_document" "mail_send" {
  count = length(aws_sesv2_email_identity.reminders)
  statement {
    sid       = "SendReminderMail"
    actions   = ["ses:SendEmail"]
    resources = [aws_sesv2_email_identity.reminders[0].arn]
  }
}

resource "aws_iam_role_policy" "sync_mail" {
  count  = length(aws_sesv2_email_identity.reminders)
  name   = "${local.name}-sync-mail"
  role   = aws_iam_role.sync.id
  policy = data.aws_iam_policy_document.mail_send[0].json
}
