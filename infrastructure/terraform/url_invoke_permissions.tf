# Since October 2025 a public Function URL also needs lambda:InvokeFunction granted to everyone
# (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html). AWS's own statement holds only
# for calls that come through the URL: {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}.
# Without that condition any AWS account could Invoke the functions directly, synchronously or
# asynchronously (a forged stream request holding an SSE environment with no one listening).
#
# hashicorp/aws 5.100 cannot write that condition: aws_lambda_permission gained
# invoked_via_function_url only in 6.29, no other resource of 5.x writes a Lambda resource
# policy, and function_url_auth_type is refused by AWS on lambda:InvokeFunction ("only supported
# for lambda:InvokeFunctionUrl action"). CloudFormation's AWS::Lambda::Permission has the
# property (InvokedViaFunctionUrl), so the statement is written by a small stack that Terraform
# creates, updates and deletes with the functions. With a provider >= 6.29 this file becomes two
# aws_lambda_permission resources with invoked_via_function_url = true.
resource "aws_cloudformation_stack" "url_invoke_permissions" {
  #checkov:skip=CKV_AWS_124:The stack only holds two Lambda permission statements, managed and watched through Terraform; event notifications to SNS would add a topic for nothing.
  count = var.grant_public_invoke_function ? 1 : 0

  name          = "${local.name_prefix}-url-invoke-permissions"
  template_body = jsonencode(local.url_invoke_permissions_template)
}

locals {
  url_functions = {
    Dashboard = aws_lambda_function.dashboard.function_name
    Sse       = aws_lambda_function.sse.function_name
  }

  url_invoke_permissions_template = {
    AWSTemplateFormatVersion = "2010-09-09"
    Description              = "Public lambda:InvokeFunction through the Function URLs only (${var.environment}); managed by Terraform."
    Resources = {
      for prefix, function_name in local.url_functions : "${prefix}InvokeViaFunctionUrl" => {
        Type = "AWS::Lambda::Permission"
        Properties = {
          FunctionName          = function_name
          Action                = "lambda:InvokeFunction"
          Principal             = "*"
          InvokedViaFunctionUrl = true
        }
      }
    }
  }
}
