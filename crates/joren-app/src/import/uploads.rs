//! Staged uploads: a file kept between the preview and the import, and its report.

use super::*;

/// An uploaded file staged for import from the web page.
pub use joren_store::Upload;

impl App {
    /// Keeps an uploaded file (in the database, so any server process can run it) until the
    /// user has checked the preview; returns the token naming it.
    pub async fn stage_upload(
        &self,
        actor: &Actor,
        kind: ImportKind,
        filename: &str,
        content: &[u8],
    ) -> Result<String> {
        actor.require_write()?;
        let token = crate::auth::random_token();
        let kind = match kind {
            ImportKind::Customers => "customers",
            ImportKind::Orders => "orders",
        };
        self.store.save_upload(&token, actor.user_id, kind, filename, content).await?;
        Ok(token)
    }

    /// A staged upload of this actor.
    pub async fn staged_upload(&self, actor: &Actor, token: &str) -> Result<Upload> {
        let upload = self.store.get_upload(token).await?;
        if upload.user_id != actor.user_id {
            return Err(AppError::Forbidden(joren_core::Code::NotYourUpload.into()));
        }
        Ok(upload)
    }

    /// Runs a staged upload with the chosen preset and mapping; keeps the report with it.
    pub async fn run_staged_upload(
        &self,
        actor: &Actor,
        token: &str,
        preset: Option<String>,
        overrides: Vec<(String, String)>,
    ) -> Result<(Upload, ImportReport)> {
        let upload = self.staged_upload(actor, token).await?;
        let kind = ImportKind::parse(&upload.kind).ok_or(AppError::NotFound("import kind"))?;
        let mut options = ImportOptions::new(kind);
        options.preset = preset;
        options.overrides = overrides;
        let report = self.import_csv(actor, &upload.content[..], &options, &mut |_| {}).await?;
        let json = serde_json::to_string(&report).map_err(|e| AppError::Internal(e.to_string()))?;
        self.store.set_upload_report(token, &json).await?;
        Ok((upload, report))
    }

    /// The report of a staged upload that has run.
    pub async fn staged_upload_report(&self, actor: &Actor, token: &str) -> Result<ImportReport> {
        let upload = self.staged_upload(actor, token).await?;
        upload.report.as_deref().and_then(|r| serde_json::from_str(r).ok()).ok_or(AppError::NotFound("import report"))
    }
}
