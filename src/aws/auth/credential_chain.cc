#include "aws/auth/credential_chain.h"

#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "aws/auth/process.h"

namespace cloudaudit::aws {

namespace {

class DefaultChain final : public CredentialsProvider {
 public:
  DefaultChain(Result<std::shared_ptr<SourceContext>> ctx, std::string profile, bool profile_from_flag)
      : ctx_(std::move(ctx)), profile_(std::move(profile)), profile_from_flag_(profile_from_flag) {}

  Result<Credentials> GetCredentials() override {
    std::shared_ptr<CredentialsProvider> provider;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!resolution_) resolution_ = Resolve();
      if (!*resolution_) return Fail(resolution_->error());
      provider = **resolution_;
    }
    return provider->GetCredentials();
  }

 private:
  Result<std::shared_ptr<CredentialsProvider>> Resolve() {
    if (!ctx_) return Fail(ctx_.error());
    SourceContextPtr ctx = *ctx_;
    std::vector<SourcePtr> sources;
    std::vector<std::string> looked;
    // An explicit --profile means "use this profile", so environment keys
    // must not silently win over it.
    if (profile_from_flag_) {
      looked.push_back("env: skipped because --profile was given");
    } else {
      sources.push_back(MakeEnvSource(ctx));
    }
    sources.push_back(MakeAssumeRoleSource(ctx, profile_));
    for (SourcePtr& s : MakeProfileSources(ctx, profile_, /*use_env=*/!profile_from_flag_)) {
      sources.push_back(std::move(s));
    }
    sources.push_back(MakeEc2CredentialFileSource(ctx));
    sources.push_back(MakeBotoConfigSource(ctx));
    sources.push_back(MakeContainerSource(ctx));
    sources.push_back(MakeInstanceMetadataSource(ctx));
    CA_TRY(auto provider, LoadFirst(sources, &looked));
    if (provider) return provider;
    for (const std::string& problem : ctx->read_problems) looked.push_back(problem);
    return MakeError(ErrorCode::kCredentials,
                     fmt::format("Unable to locate credentials for profile \"{}\". Looked at: {}. Configure "
                                 "credentials with \"aws configure\", set AWS_ACCESS_KEY_ID and "
                                 "AWS_SECRET_ACCESS_KEY, or choose a profile with --profile or AWS_PROFILE.",
                                 profile_, fmt::join(looked, "; ")));
  }

  const Result<std::shared_ptr<SourceContext>> ctx_;
  const std::string profile_;
  const bool profile_from_flag_;
  std::mutex mu_;
  std::optional<Result<std::shared_ptr<CredentialsProvider>>> resolution_;
};

}  // namespace

Result<std::shared_ptr<SourceContext>> MakeSourceContext(const ResolvedConfig& config, CredentialChainDeps deps) {
  auto ctx = std::make_shared<SourceContext>();
  ctx->env = config.environment();
  ctx->fs = config.file_system();
  ctx->config = config.shared_config_ptr();
  ctx->config_file_path = config.config_file_path();
  ctx->credentials_file_path = config.credentials_file_path();
  ctx->read_problems = config.read_problems();
  ctx->region = config.Region().value_or("");
  CA_TRY(ctx->imds, config.Imds());
  ctx->sso_cache_dir = ExpandUser("~/.aws/sso/cache", ctx->env);
  ctx->transport = deps.transport;
  ctx->caller = deps.caller;
  ctx->mfa_prompt = deps.mfa_prompt ? std::move(deps.mfa_prompt) : MfaPrompt(PromptOnTerminal);
  ctx->clock = deps.clock ? std::move(deps.clock) : SystemClock();
  ctx->sleep = deps.sleep ? std::move(deps.sleep) : Sleeper([](int64_t ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  });
  if (deps.random) {
    ctx->random = std::move(deps.random);
  } else {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    auto mu = std::make_shared<std::mutex>();
    ctx->random = [engine, mu](int64_t lo, int64_t hi) {
      std::lock_guard<std::mutex> lock(*mu);
      return std::uniform_int_distribution<int64_t>(lo, hi)(*engine);
    };
  }
  return ctx;
}

std::shared_ptr<CredentialsProvider> MakeDefaultCredentialsChain(const ResolvedConfig& config,
                                                                 CredentialChainDeps deps) {
  return std::make_shared<DefaultChain>(MakeSourceContext(config, std::move(deps)), config.profile_name(),
                                        config.profile_from_flag());
}

}  // namespace cloudaudit::aws
