-- Prompts as the model saw them (issue 10): the text after the model's chat template and its
-- token ids, so SQL shows exactly what each model was given. Raw prompts (the character-level
-- organisms) keep empty ids: the agent tokenizes their text.

-- AlterTable
ALTER TABLE "Prompt" ADD COLUMN "renderedText" TEXT,
ADD COLUMN "promptIds" INTEGER[] DEFAULT ARRAY[]::INTEGER[];

-- Every existing prompt was given to its model raw.
UPDATE "Prompt" SET "renderedText" = "text" WHERE "renderedText" IS NULL;
