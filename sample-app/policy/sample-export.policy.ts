import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DefaultExportPolicy, ExportNotFoundException, ExportPrincipal, ExportSubjectUser } from 'nestjs-data-export';
import { Member } from '../entities';

/**
 * The help desk's export rules: the library's defaults (owners and admins export the team, every
 * member their own data), plus exports on behalf: an owner or admin may export a member's data
 * from the Team members page, for someone who cannot sign in. The library cannot know who the
 * team's members are, so `resolveSubject` looks them up.
 */
@Injectable()
export class SampleExportPolicy extends DefaultExportPolicy {
  // A property, so the default policy's constructor (the module's options) stays as it is.
  @Inject(DataSource) private readonly dataSource!: DataSource;

  async resolveSubject(principal: ExportPrincipal, userId: string): Promise<ExportSubjectUser> {
    const member = await this.dataSource.getRepository(Member).findOneBy({ id: userId, teamId: principal.accountId });
    // Someone of another team, or no one: not a member of this team.
    if (!member) throw new ExportNotFoundException();
    return { userId: member.id, email: member.email, displayName: member.name };
  }
}
