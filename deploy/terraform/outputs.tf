output "event_bus_arn" {
  description = "The bus the members forward to (member module's central_event_bus_arn)."
  value       = aws_cloudwatch_event_bus.ecrguard.arn
}

output "function_role_arn" {
  description = "The role the member remediation roles trust (member module's central_function_role_arn)."
  value       = aws_iam_role.handler.arn
}

output "journal_table" {
  description = "ecrguard restore dynamodb://<table>/<id> --member-role <name>"
  value       = aws_dynamodb_table.journal.name
}
